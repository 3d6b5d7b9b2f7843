import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadFarmConfig } from '../core/config/load.js';
import { mosquittoAcl, mosquittoConf, mosquittoPasswords } from '../cluster/mosquitto.js';

/**
 * `npm run mosquitto-config -- --out DIR`: writes passwd, acl and mosquitto.conf for Mosquitto 2 from the farm
 * file, so Mosquitto can stand in for the embedded broker (cluster/README.md).
 */
const HELP = `Generate Mosquitto 2 password file, ACL file and mosquitto.conf from a farm file.

  npm run mosquitto-config -- --out DIR [--config FILE] [--port 1883] [--host 0.0.0.0] [--dir PATH-SEEN-BY-MOSQUITTO]
                              [--user NAME] [--no-persistence]

  --config      farm file (default: FARM_CONFIG or config/demo-farm.yaml)
  --dir         where Mosquitto reads the files, if not DIR (e.g. /mosquitto/config/generated in docker-compose)
  --user        the user Mosquitto runs as when started as root (root keeps root)
  The service password comes from MQTT_SERVICE_PASSWORD (the same value every service process is given);
  MQTT_SERVICE_USERNAME (default farm-service) and MQTT_TOPIC_ROOT (default farm) are read as well.
  Devices with only a secretHash cannot be written (Mosquitto needs the plain secret): they are listed, and
  npm run provision -- --id DEVICE --rotate --mosquitto-dir DIR gives one a new secret and adds it.
`;

function fail(message: string): never {
  process.stderr.write(`mosquitto-config: ${message}\nRun with --help for usage.\n`);
  process.exit(2);
}

export function generateMosquittoFiles(argv: string[], env: NodeJS.ProcessEnv = process.env) {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' }, config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, dir: { type: 'string' },
      user: { type: 'string' }, 'no-persistence': { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (a.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (!a.out) fail('--out DIR is required');
  const password = env.MQTT_SERVICE_PASSWORD;
  if (!password) fail('set MQTT_SERVICE_PASSWORD: the service processes log in with it, so the password file must contain it');
  const port = Number(a.port ?? 1883);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port ${a.port} is not a TCP port`);
  const configPath = resolve(a.config ?? env.FARM_CONFIG ?? 'config/demo-farm.yaml');
  const config = loadFarmConfig(configPath);
  const out = resolve(a.out);
  const input = { config, topicRoot: env.MQTT_TOPIC_ROOT ?? 'farm', service: { username: env.MQTT_SERVICE_USERNAME ?? 'farm-service', password }, source: configPath };
  const passwords = mosquittoPasswords(input);
  mkdirSync(out, { recursive: true });
  mkdirSync(resolve(out, 'data'), { recursive: true });
  // Hashed, but still not for everyone's eyes: readable by the owner and group (the mosquitto user's group).
  writeFileSync(resolve(out, 'passwd'), passwords.text, { mode: 0o640 });
  chmodSync(resolve(out, 'passwd'), 0o640);
  writeFileSync(resolve(out, 'acl'), mosquittoAcl(input), { mode: 0o644 });
  writeFileSync(resolve(out, 'mosquitto.conf'), mosquittoConf({ port, host: a.host, dir: a.dir ?? out, persistence: !a['no-persistence'], runAsUser: a.user }));
  return { out, skipped: passwords.skipped, users: passwords.text.trim().split('\n').length };
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (isMain) {
  try {
    const { out, skipped, users } = generateMosquittoFiles(process.argv.slice(2));
    process.stdout.write(`Wrote ${out}/passwd (${users} users), ${out}/acl and ${out}/mosquitto.conf.\nStart Mosquitto with: mosquitto -c ${out}/mosquitto.conf\n`);
    if (skipped.length)
      process.stdout.write(
        `\n${skipped.length} device(s) have only a secretHash and are NOT in the password file: ${skipped.join(', ')}.\n` +
          `Give each a new secret with: npm run provision -- --config FILE --id DEVICE --rotate --mosquitto-dir ${out}\n`,
      );
  } catch (err) {
    fail(err instanceof ConfigError ? err.message : (err as Error).message);
  }
}
