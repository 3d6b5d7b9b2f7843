import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/ports.js';

/**
 * A real Mosquitto 2 for interoperability tests: its own temp dir and free port on 127.0.0.1, anonymous
 * access off, a password file hashed by `mosquitto_passwd`, and an ACL that grants each device exactly the
 * topics SPEC "Access control" allows. Mosquitto drops what the ACL forbids, so a device that strays from
 * its own topics is seen by nobody.
 */
export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
export const INSTALL_HINT = 'Mosquitto 2 is needed for this test: apt-get install -y mosquitto (provides /usr/sbin/mosquitto and /usr/bin/mosquitto_passwd)';

export interface Mosquitto {
  url: string;
  port: number;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

export const mosquittoInstalled = () => existsSync(MOSQUITTO) && existsSync(MOSQUITTO_PASSWD);

function acl(root: string, service: string): string {
  return [
    `user ${service}`,
    `topic readwrite ${root}/#`,
    '',
    `pattern write ${root}/+/+/%u/telemetry`,
    `pattern write ${root}/+/+/%u/status`,
    `pattern write ${root}/+/+/%u/state`,
    `pattern read ${root}/+/+/%u/cmd`,
    '',
  ].join('\n');
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startMosquitto(users: Record<string, string>, opts: { topicRoot?: string; service?: string } = {}): Promise<Mosquitto> {
  if (!mosquittoInstalled()) throw new Error(INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'sim-mosquitto-'));
  const port = await freePort();
  const passwd = join(dir, 'passwd');
  // Plain "user:password" lines, then hashed in place by mosquitto_passwd -U (Mosquitto's own PBKDF2-SHA512).
  writeFileSync(
    passwd,
    Object.entries(users)
      .map(([u, p]) => `${u}:${p}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );
  await promisify(execFile)(MOSQUITTO_PASSWD, ['-U', passwd]);
  writeFileSync(join(dir, 'acl'), acl(opts.topicRoot ?? 'farm', opts.service ?? 'farm-service'));
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      // Started as root, Mosquitto would switch to user "mosquitto", who cannot read this private temp dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${join(dir, 'acl')}`,
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mosquitto did not start on port ${port}: ${output.slice(-1000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
