import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMap, isSeq, parseDocument, YAMLMap, YAMLSeq, type Document } from 'yaml';
import { ConfigError, parseFarmConfig } from '../core/config/load.js';
import { hashSecret, newSecret } from '../core/secrets.js';
import { mosquittoAcl, mosquittoPasswordEntry, upsertPasswordEntry } from '../cluster/mosquitto.js';

/**
 * `npm run provision`: adds a device (or rotates its secret) or a user in a farm file, storing only a scrypt
 * hash, and prints the new secret once. Comments and layout of the file are kept.
 */
const HELP = `Provision a device or a user into a farm config file.

Device:  npm run provision -- --config FILE --site SITE --zone ZONE --id DEVICE --role sensor|actuator|reader
                               [--type fan|spray|shutter|pump|valve] [--at gate|pen|feeder] [--kind shed|field|drain] [--metrics a,b] [--rotate]
         Adds the device (creating the site/zone when --kind is given), stores secretHash, prints the secret once.
         --rotate gives an existing device a new secret.
         --mosquitto-dir DIR also adds the device to DIR/passwd and rewrites DIR/acl (files of npm run mosquitto-config);
         then reload Mosquitto (kill -HUP its pid) so it reads them.
User:    npm run provision -- --config FILE --user NAME --role viewer|operator|admin [--rotate]
         Stores passwordHash and prints a generated password once.
`;

function fail(message: string): never {
  process.stderr.write(`provision: ${message}\nRun with --help for usage.\n`);
  process.exit(2);
}

function findById(seq: unknown, id: string, key = 'id'): YAMLMap | undefined {
  if (!isSeq(seq)) return undefined;
  return seq.items.find((item): item is YAMLMap => isMap(item) && item.get(key) === id);
}

function seqAt(doc: Document | YAMLMap, key: string): YAMLSeq {
  let seq = doc.get(key);
  if (!isSeq(seq)) {
    seq = new YAMLSeq();
    doc.set(key, seq);
  }
  return seq as YAMLSeq;
}

export async function provision(argv: string[]): Promise<{ file: string; secret: string; what: string }> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' }, site: { type: 'string' }, zone: { type: 'string' }, id: { type: 'string' }, role: { type: 'string' }, at: { type: 'string' },
      type: { type: 'string' }, kind: { type: 'string' }, metrics: { type: 'string' }, user: { type: 'string' }, rotate: { type: 'boolean' }, help: { type: 'boolean' },
      'mosquitto-dir': { type: 'string' },
    },
  });
  if (a.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const file = a.config ?? process.env.FARM_CONFIG ?? fail('--config FILE is required (or set FARM_CONFIG)');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const secret = newSecret();
  const hash = await hashSecret(secret);
  let what: string;

  if (a.user) {
    if (!a.role) fail('--role viewer|operator|admin is required with --user');
    const users = seqAt(doc, 'users');
    const existing = findById(users, a.user, 'name');
    if (existing && !a.rotate) fail(`user ${a.user} exists already: add --rotate to give it a new password`);
    const entry = existing ?? new YAMLMap();
    entry.set('name', a.user);
    entry.set('role', a.role);
    entry.delete('password');
    entry.set('passwordHash', hash);
    if (!existing) users.add(entry);
    what = `user ${a.user} (${a.role})`;
  } else {
    if (!a.site || !a.zone || !a.id || !a.role) fail('--site, --zone, --id and --role are required for a device');
    const sites = seqAt(doc, 'sites');
    let site = findById(sites, a.site);
    if (!site) {
      if (!a.kind) fail(`site ${a.site} does not exist: add --kind to create it with zone ${a.zone}`);
      site = new YAMLMap();
      site.set('id', a.site);
      site.set('zones', new YAMLSeq());
      sites.add(site);
    }
    const zones = seqAt(site, 'zones');
    let zone = findById(zones, a.zone);
    if (!zone) {
      if (!a.kind) fail(`zone ${a.zone} does not exist in ${a.site}: add --kind shed|field|drain to create it`);
      zone = new YAMLMap();
      zone.set('id', a.zone);
      zone.set('kind', a.kind);
      zone.set('devices', new YAMLSeq());
      zones.add(zone);
    }
    const devices = seqAt(zone, 'devices');
    const existing = findById(devices, a.id);
    if (existing && !a.rotate) fail(`device ${a.id} exists already: add --rotate to give it a new secret`);
    const entry = existing ?? new YAMLMap();
    entry.set('id', a.id);
    entry.set('role', a.role);
    if (a.type) entry.set('type', a.type);
    if (a.at) entry.set('at', a.at);
    if (a.metrics) entry.set('metrics', a.metrics.split(',').map((m) => m.trim()));
    entry.delete('secret');
    entry.set('secretHash', hash);
    if (!existing) devices.add(entry);
    what = `device ${a.id} in ${a.site}/${a.zone}`;
  }

  const text = doc.toString({ lineWidth: 0 });
  const config = parseFarmConfig(text, file, dirname(file)); // never write a file the service would refuse
  const mosquittoDir = a['mosquitto-dir'];
  if (mosquittoDir && a.user) fail('--mosquitto-dir is for devices: dashboard users do not log in to the broker');
  if (mosquittoDir && !existsSync(join(mosquittoDir, 'passwd'))) fail(`${mosquittoDir}/passwd does not exist: create the files first with npm run mosquitto-config -- --out ${mosquittoDir}`);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
  if (mosquittoDir && a.id) {
    // The one moment the plain secret is known: Mosquitto needs its own hash of it (cluster/mosquitto.ts).
    const passwd = join(mosquittoDir, 'passwd');
    writeFileSync(passwd, upsertPasswordEntry(readFileSync(passwd, 'utf8'), mosquittoPasswordEntry(a.id, secret)), { mode: 0o640 });
    const acl = mosquittoAcl({ config, topicRoot: process.env.MQTT_TOPIC_ROOT ?? 'farm', service: { username: process.env.MQTT_SERVICE_USERNAME ?? 'farm-service' }, source: file });
    writeFileSync(join(mosquittoDir, 'acl'), acl);
    what += ` (and to ${passwd} and ${mosquittoDir}/acl: reload Mosquitto with kill -HUP)`;
  }
  return { file, secret, what };
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (isMain) {
  provision(process.argv.slice(2)).then(
    ({ file, secret, what }) => {
      process.stdout.write(`Provisioned ${what} in ${file}.\nSecret (shown once, only its scrypt hash is stored):\n${secret}\n`);
    },
    (err) => {
      if (err instanceof ConfigError) fail(`the result would be invalid, nothing written:\n${err.message}`);
      fail((err as Error).message);
    },
  );
}
