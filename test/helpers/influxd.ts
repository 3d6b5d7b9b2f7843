import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A real InfluxDB 1.x server for integration tests: its own temp data dir, free ports, a generated config.
 * Tests that need it fail loudly when `influxd` is missing rather than pass without having run.
 */
export interface InfluxdOptions {
  /** Turns on [http] auth-enabled; create the first admin user over /query (see createAdmin). */
  authEnabled?: boolean;
}

export interface Influxd {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Pid of the running process (changes after resume()). */
  readonly pid: number;
  /** Stops the process, keeps port and data: an InfluxDB outage. */
  pause(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  resume(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it for good and deletes its data dir. */
  stop(): Promise<void>;
}

const PING_TIMEOUT_MS = 30_000;
const KILL_AFTER_MS = 10_000;

export function findInfluxd(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'influxd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** InfluxDB 1.6 config layout as printed by `influxd config`; only what differs from its defaults. */
function configToml(dir: string, httpPort: number, rpcPort: number, options: InfluxdOptions): string {
  return `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = ${options.authEnabled ? 'true' : 'false'}
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[ifql]
  enabled = false

[[graphite]]
  enabled = false

[[collectd]]
  enabled = false

[[opentsdb]]
  enabled = false

[[udp]]
  enabled = false

[continuous_queries]
  enabled = false
`;
}

export async function startInfluxd(options: InfluxdOptions = {}): Promise<Influxd> {
  const binary = findInfluxd();
  if (!binary) {
    if (process.env.CI === 'true') throw new Error('influxd not found on PATH or in /usr/bin: CI must install InfluxDB 1.x (apt-get install -y influxdb)');
    throw new Error('influxd not found: install it with `sudo apt-get install -y influxdb` (Debian) or put an InfluxDB 1.x `influxd` on PATH');
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'farm-influxd-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const configPath = join(dataDir, 'influxdb.conf');
  await writeFile(configPath, configToml(dataDir, port, rpcPort, options));
  const url = `http://127.0.0.1:${port}`;

  let child: ChildProcess | undefined;
  let stderr = '';

  async function launch(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) return;
    stderr = '';
    const proc = spawn(binary!, ['-config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
    });
    let exited: string | undefined;
    proc.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
    const deadline = Date.now() + PING_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`influxd ${exited} before answering /ping on ${url}:\n${stderr}`);
      try {
        const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 204) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await halt();
    throw new Error(`influxd did not answer /ping on ${url} within ${PING_TIMEOUT_MS} ms:\n${stderr}`);
  }

  async function halt(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), KILL_AFTER_MS);
    await exited;
    clearTimeout(timer);
  }

  // If the test process dies without stop(), do not leave a server running behind it.
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  await launch().catch(async (err) => {
    process.off('exit', killOnExit);
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  });

  return {
    url,
    port,
    dataDir,
    get pid() {
      return child?.pid ?? -1;
    },
    pause: halt,
    resume: launch,
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      process.off('exit', killOnExit);
      await halt();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs one InfluxQL statement over POST /query; throws with InfluxDB's error text. */
export async function influxql(url: string, q: string, params: Record<string, string> = {}, auth?: { username: string; password: string }) {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const res = await fetch(`${url}/query?${new URLSearchParams({ epoch: 'ms', ...params })}`, { method: 'POST', headers, body: new URLSearchParams({ q }) });
  const body = (await res.json()) as { results?: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[]; error?: string };
  const error = body.error ?? body.results?.find((r) => r.error)?.error;
  if (!res.ok || error) throw new Error(`InfluxQL ${q} failed: ${res.status} ${error ?? ''}`);
  return body.results ?? [];
}

/** With auth enabled and no users yet, InfluxDB 1.x accepts exactly this unauthenticated statement. */
export async function createAdmin(url: string, username: string, password: string): Promise<void> {
  await influxql(url, `CREATE USER "${username}" WITH PASSWORD '${password.replace(/'/g, "\\'")}' WITH ALL PRIVILEGES`);
}
