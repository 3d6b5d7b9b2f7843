import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lookupUser } from '../../cluster/mosquitto-user.js';
import { tryConnect } from '../helpers/mqtt.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { MOSQUITTO, requireMosquitto, SERVICE_PASSWORD } from './helpers.js';

/**
 * The files of `npm run mosquitto-config` start a real Mosquitto as the README says (`mosquitto -c DIR/mosquitto.conf`),
 * without `--user`: started as root, Mosquitto drops to the `mosquitto` user before it opens the password file
 * (root-owned 0640 files stopped it with "Unable to open pwfile"); started as its own user it reads them as that
 * user. Both are run here when the machine allows (we are root on CI, and Debian's package creates `mosquitto`).
 */
const root = process.getuid?.() === 0;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A temp folder Mosquitto's user can enter (mkdtemp makes it 0700). */
function openDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'farm-mosq-'));
  chmodSync(d, 0o755);
  dirs.push(d);
  return d;
}

function generate(out: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'app/mosquitto-config.ts', '--out', out, ...args], {
    env: { ...process.env, MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD, MQTT_URL: '', ...env },
    encoding: 'utf8',
  });
}

/** Starts Mosquitto (as root, or as the given uid/gid), checks that the service user and a device get in, stops it. */
async function runMosquitto(conf: string, port: number, as?: { uid: number; gid: number }): Promise<string> {
  requireMosquitto();
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'], ...(as ?? {}) });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited ${child.exitCode}: ${output}`);
        return /running/.test(output) || undefined;
      },
      `mosquitto to start (output: ${output})`,
      15_000,
    );
    expect(await tryConnect(port, 'farm-service', SERVICE_PASSWORD)).toEqual({ connected: true });
    expect(await tryConnect(port, 'shed-1-env', 'dev-only-shed-1-env', 'shed-1-env')).toEqual({ connected: true });
    expect((await tryConnect(port, 'shed-1-env', 'wrong-secret')).connected).toBe(false);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return output;
}

describe('npm run mosquitto-config', () => {
  it('writes the port given, says where the parts connect, and a .gitignore for the folder of hashes', async () => {
    const out = join(openDir(), 'mosq');
    const port = await freePort();
    const r = generate(out, ['--port', String(port), '--no-persistence']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'mosquitto.conf'), 'utf8')).toContain(`listener ${port}\n`);
    expect(r.stdout).toContain(`Mosquitto listens on port ${port} (all addresses): port from --port.`);
    expect(r.stdout).toContain(`MQTT_URL=mqtt://127.0.0.1:${port}`);
    expect(readFileSync(join(out, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    // Without --port, the port of MQTT_URL (the parts' setting) rather than a silent 1883.
    const fromUrl = generate(join(openDir(), 'mosq'), ['--no-persistence'], { MQTT_URL: `mqtt://127.0.0.1:${port}` });
    expect(fromUrl.stdout).toContain(`port from MQTT_URL (mqtt://127.0.0.1:${port})`);
  });

  it("the README's mosq/ folder is ignored by git in the repository", () => {
    const r = spawnSync('git', ['check-ignore', '-q', 'mosq/passwd']);
    expect(r.status, 'git check-ignore mosq/passwd').toBe(0);
  });

  it.runIf(root)('as root: the files belong to the mosquitto user, and Mosquitto started as root (dropping to it) runs and keeps its data', async () => {
    const mosquittoUser = lookupUser('mosquitto');
    expect(mosquittoUser, 'the mosquitto user (apt-get install -y mosquitto creates it)').toBeDefined();
    const out = join(openDir(), 'mosq');
    const port = await freePort();
    const r = generate(out, ['--port', String(port), '--host', '127.0.0.1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Started as root it runs as mosquitto, who owns the files (uid ${mosquittoUser!.uid})`);
    expect(readFileSync(join(out, 'mosquitto.conf'), 'utf8')).toMatch(/^user mosquitto$/m);
    for (const f of ['passwd', 'acl', 'data']) expect(statSync(join(out, f)).uid, f).toBe(mosquittoUser!.uid);
    expect(statSync(join(out, 'passwd')).mode & 0o777).toBe(0o640);

    const log = await runMosquitto(join(out, 'mosquitto.conf'), port);
    expect(log).not.toMatch(/Unable to open/);
    expect(existsSync(join(out, 'data', 'mosquitto.db')), 'persistence written as the mosquitto user').toBe(true);

    // The same files, Mosquitto started as its own user (as a systemd unit with User=mosquitto does).
    rmSync(join(out, 'data', 'mosquitto.db'));
    await runMosquitto(join(out, 'mosquitto.conf'), port, { uid: mosquittoUser!.uid, gid: mosquittoUser!.gid });
    expect(existsSync(join(out, 'data', 'mosquitto.db'))).toBe(true);
  });

  it.runIf(!root)("as another user: the files stay that user's, and Mosquitto started by that user reads them", async () => {
    const out = join(openDir(), 'mosq');
    const port = await freePort();
    const r = generate(out, ['--port', String(port), '--host', '127.0.0.1']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'mosquitto.conf'), 'utf8')).not.toMatch(/^user /m);
    await runMosquitto(join(out, 'mosquitto.conf'), port);
  });

  it.runIf(root)('warns, before Mosquitto is started, when a folder on the way is closed to the user it will run as', () => {
    const closed = mkdtempSync(join(tmpdir(), 'farm-mosq-closed-')); // 0700, root's
    dirs.push(closed);
    const r = generate(join(closed, 'mosq'), ['--port', '1883', '--no-persistence']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`WARNING: Mosquitto running as mosquitto cannot reach ${join(closed, 'mosq')}: ${closed} (mode 0700`);
  });

  it('refuses an unknown --user and a bad port with the cause', () => {
    const out = join(openDir(), 'mosq');
    const user = generate(out, ['--user', 'no-such-user-here']);
    expect(user.status).toBe(2);
    expect(user.stderr).toContain('--user no-such-user-here: there is no such user on this machine');
    const port = generate(out, ['--port', 'abc']);
    expect(port.status).toBe(2);
    expect(port.stderr).toContain('port abc (from --port) is not a TCP port');
  });
});
