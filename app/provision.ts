import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileDurably } from '../core/durable-file.js';
import { hashSecret, newSecret } from '../core/secrets.js';
import { mosquittoAcl, mosquittoPasswordEntry, upsertPasswordEntry } from '../cluster/mosquitto.js';
import { HELP, parseProvisionArgs, ProvisionError } from './provision/args.js';
import { planProvision } from './provision/plan.js';

/**
 * `npm run provision`: adds a device (or rotates its secret) or a user in a farm file, storing only a scrypt
 * hash, and prints the new secret once. The rest of the file stays byte for byte as it was
 * (app/provision/yaml-edit.ts); options are checked before the file is read (app/provision/args.ts).
 */
export async function provision(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ file: string; secret: string; what: string } | undefined> {
  const req = parseProvisionArgs(argv, env);
  if (!req) return undefined;
  const file = resolve(req.config);
  if (!existsSync(file)) throw new ProvisionError('BAD_ARGUMENT', `--config ${req.config}: there is no such file (${file})`);
  const mosquittoDir = req.kind === 'user' ? undefined : req.mosquittoDir;
  if (mosquittoDir && !existsSync(join(mosquittoDir, 'passwd')))
    throw new ProvisionError(
      'NO_MOSQUITTO_FILES',
      `${mosquittoDir}/passwd does not exist: create the files first with npm run mosquitto-config -- --out ${mosquittoDir}`,
    );
  const secret = newSecret();
  const plan = planProvision(readFileSync(file, 'utf8'), req, await hashSecret(secret), req.config, dirname(file));

  // Written whole or not at all, with the file's own permissions (it holds hashes), and durably (the directory
  // synced after the rename): a running service reloads the file as soon as it changes.
  writeFileDurably(file, plan.text, { mode: statSync(file).mode & 0o777 });
  let what = plan.what;
  if (mosquittoDir && plan.device) {
    // The one moment the plain secret is known: Mosquitto needs its own hash of it (cluster/mosquitto.ts).
    // Written in place, so the files keep the owner Mosquitto reads them as (npm run mosquitto-config sets it).
    const passwd = join(mosquittoDir, 'passwd');
    writeFileSync(passwd, upsertPasswordEntry(readFileSync(passwd, 'utf8'), mosquittoPasswordEntry(plan.device.id, secret)));
    const acl = mosquittoAcl({
      config: plan.config,
      topicRoot: env.MQTT_TOPIC_ROOT ?? 'farm',
      service: { username: env.MQTT_SERVICE_USERNAME ?? 'farm-service' },
      source: req.config,
    });
    writeFileSync(join(mosquittoDir, 'acl'), acl);
    what += ` (and to ${passwd} and ${mosquittoDir}/acl: reload Mosquitto with kill -HUP <its pid>)`;
  }
  return { file: req.config, secret, what };
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (isMain) {
  provision(process.argv.slice(2)).then(
    (done) => {
      if (!done) return void process.stdout.write(HELP);
      process.stdout.write(
        `Provisioned ${done.what} in ${done.file}.\nRestart the service to load it. Secret (shown once, only its scrypt hash is stored):\n${done.secret}\n`,
      );
    },
    (err: unknown) => {
      if (err instanceof ProvisionError) {
        process.stderr.write(`provision: ${err.message}\n${err.code === 'BAD_ARGUMENT' ? 'Run with --help for usage.\n' : ''}`);
        process.exit(2);
      }
      process.stderr.write(`provision: unexpected failure, nothing written: ${(err as Error).stack ?? String(err)}\nPlease report it.\n`);
      process.exit(1);
    },
  );
}
