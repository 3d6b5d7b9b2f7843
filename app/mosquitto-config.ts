import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadFarmConfig } from '../core/config/load.js';
import { mosquittoAcl, mosquittoConf, mosquittoPasswords } from '../cluster/mosquitto.js';
import { closedFolderOnTheWay, lookupUser, MOSQUITTO_DEFAULT_USER, type PosixUser } from '../cluster/mosquitto-user.js';

/**
 * `npm run mosquitto-config -- --out DIR`: writes passwd, acl and mosquitto.conf for Mosquitto 2 from the farm
 * file, so Mosquitto can stand in for the embedded broker (cluster/README.md), readable by the user Mosquitto
 * will run as (cluster/mosquitto-user.ts).
 */
const HELP = `Generate Mosquitto 2 password file, ACL file and mosquitto.conf from a farm file.

  npm run mosquitto-config -- --out DIR [--port PORT] [--host ADDRESS] [--config FILE] [--user NAME]
                              [--dir PATH-SEEN-BY-MOSQUITTO] [--no-persistence]

  --port        the port Mosquitto listens on (default: the port of MQTT_URL when set, else 1883)
  --host        the address it listens on (default: all)
  --config      farm file (default: FARM_CONFIG or config/demo-farm.yaml)
  --user        the user Mosquitto runs as when started as root (default mosquitto, as Mosquitto's own default);
                run as root, this command gives the files to that user so Mosquitto can read them
  --dir         where Mosquitto reads the files, if not DIR (e.g. /mosquitto/config/generated in docker-compose)
  The service password comes from MQTT_SERVICE_PASSWORD (the same value every service process is given);
  MQTT_SERVICE_USERNAME (default farm-service) and MQTT_TOPIC_ROOT (default farm) are read as well.
  Devices with only a secretHash cannot be written (Mosquitto needs the plain secret): they are listed, and
  npm run provision -- --id DEVICE --rotate --mosquitto-dir DIR gives one a new secret and adds it.
  DIR gets a .gitignore: it holds password hashes.
`;

class UsageError extends Error {}

export interface GeneratedMosquittoFiles {
  out: string;
  skipped: string[];
  users: number;
  port: number;
  portFrom: string;
  host?: string;
  /** Who reads the files: the user Mosquitto drops to as root, or whoever starts it. */
  runAs?: PosixUser;
  /** Things that would stop Mosquitto, said before it is started. */
  warnings: string[];
}

function portOf(a: { port?: string }, env: NodeJS.ProcessEnv): { port: number; from: string } {
  if (a.port !== undefined) return { port: Number(a.port), from: '--port' };
  if (env.MQTT_URL) {
    try {
      return { port: Number(new URL(env.MQTT_URL).port || 1883), from: `MQTT_URL (${env.MQTT_URL})` };
    } catch {
      throw new UsageError(`MQTT_URL=${env.MQTT_URL} is not a URL: give --port, or set MQTT_URL like mqtt://127.0.0.1:1883`);
    }
  }
  return { port: 1883, from: 'the default; --port to change' };
}

export function generateMosquittoFiles(argv: string[], env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1): GeneratedMosquittoFiles {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      dir: { type: 'string' },
      user: { type: 'string' },
      'no-persistence': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (!a.out) throw new UsageError('--out DIR is required: the folder to write passwd, acl and mosquitto.conf to');
  const password = env.MQTT_SERVICE_PASSWORD;
  if (!password) throw new UsageError('set MQTT_SERVICE_PASSWORD: the service processes log in with it, so the password file must contain it');
  const { port, from } = portOf(a, env);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`port ${a.port ?? port} (from ${from}) is not a TCP port: 1 to 65535`);

  const asRoot = uid === 0;
  const userName = a.user ?? (asRoot ? MOSQUITTO_DEFAULT_USER : undefined);
  const runAs = userName ? lookupUser(userName) : undefined;
  const warnings: string[] = [];
  if (a.user && !runAs) throw new UsageError(`--user ${a.user}: there is no such user on this machine (see /etc/passwd)`);
  if (userName && !runAs)
    warnings.push(
      `there is no user ${userName} on this machine, which Mosquitto started as root switches to: install Mosquitto's package (it creates the user) or give --user NAME (--user root keeps root)`,
    );

  const configPath = resolve(a.config ?? env.FARM_CONFIG ?? 'config/demo-farm.yaml');
  const config = loadFarmConfig(configPath);
  const out = resolve(a.out);
  const input = {
    config,
    topicRoot: env.MQTT_TOPIC_ROOT ?? 'farm',
    service: { username: env.MQTT_SERVICE_USERNAME ?? 'farm-service', password },
    source: configPath,
  };
  const passwords = mosquittoPasswords(input);
  const data = resolve(out, 'data');
  mkdirSync(data, { recursive: true });
  const files = { passwd: resolve(out, 'passwd'), acl: resolve(out, 'acl'), conf: resolve(out, 'mosquitto.conf') };
  // Hashed, but still not for everyone's eyes: readable by their owner (the user Mosquitto runs as) and its group.
  writeFileSync(files.passwd, passwords.text, { mode: 0o640 });
  writeFileSync(files.acl, mosquittoAcl(input), { mode: 0o640 });
  writeFileSync(
    files.conf,
    mosquittoConf({ port, host: a.host, dir: a.dir ?? out, persistence: !a['no-persistence'], runAsUser: userName && runAs ? userName : undefined }),
  );
  if (!existsSync(resolve(out, '.gitignore')))
    writeFileSync(resolve(out, '.gitignore'), '# Written by npm run mosquitto-config: the password file holds hashes; never commit this folder.\n*\n');
  if (asRoot && runAs && runAs.uid !== 0) {
    for (const f of [files.passwd, files.acl, data]) chownSync(f, runAs.uid, runAs.gid);
  }
  if (!a.dir && runAs) {
    const closed = closedFolderOnTheWay(out, runAs);
    if (closed)
      warnings.push(
        `Mosquitto running as ${runAs.name} cannot reach ${out}: ${closed} is closed to it. Write the files under a folder it can enter (e.g. --out /etc/mosquitto/farm), or open that folder (chmod o+x)`,
      );
  }
  return { out, skipped: passwords.skipped, users: passwords.text.trim().split('\n').length, port, portFrom: from, host: a.host, runAs, warnings };
}

function report(g: GeneratedMosquittoFiles): string {
  const lines = [
    `Wrote ${g.out}/passwd (${g.users} users), ${g.out}/acl and ${g.out}/mosquitto.conf.`,
    '',
    `  Mosquitto listens on port ${g.port}${g.host ? ` of ${g.host}` : ' (all addresses)'}: port from ${g.portFrom}.`,
    `  The parts connect to it with MQTT_URL=mqtt://${g.host && g.host !== '0.0.0.0' ? g.host : '127.0.0.1'}:${g.port}`,
    g.runAs
      ? `  Started as root it runs as ${g.runAs.name}${g.runAs.uid === 0 ? '' : `, who owns the files (uid ${g.runAs.uid})`}.`
      : '  It reads the files as the user who starts it (you).',
    '',
    `Start it with: mosquitto -c ${g.out}/mosquitto.conf`,
  ];
  for (const w of g.warnings) lines.push('', `WARNING: ${w}`);
  if (g.skipped.length)
    lines.push(
      '',
      `${g.skipped.length} device(s) have only a secretHash and are NOT in the password file: ${g.skipped.join(', ')}.`,
      `Give each a new secret with: npm run provision -- --config FILE --id DEVICE --rotate --mosquitto-dir ${g.out}`,
    );
  return `${lines.join('\n')}\n`;
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (isMain) {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  try {
    process.stdout.write(report(generateMosquittoFiles(argv)));
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`mosquitto-config: ${(err as Error).message}\n${usage ? 'Run with --help for usage.\n' : ''}`);
    process.exit(err instanceof ConfigError || usage ? 2 : 1);
  }
}
