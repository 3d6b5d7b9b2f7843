import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../helpers/ports.js';

/** Real Mosquitto and split-mode processes (npm start -- --only PART) for the cluster tests. */
export const MOSQUITTO = '/usr/sbin/mosquitto';
export const SERVICE_PASSWORD = 'dev-only-service-password';

export function requireMosquitto(): void {
  try {
    accessSync(MOSQUITTO, constants.X_OK);
  } catch {
    throw new Error(`${MOSQUITTO} not found: install Mosquitto 2 with \`apt-get install -y mosquitto\` (CI installs it in .ci/run)`);
  }
}

export interface Proc {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after a while; resolves when it is gone. */
  stop(): Promise<void>;
}

function track(name: string, child: ChildProcess): Proc {
  let output = '';
  child.stdout?.on('data', (d) => (output = (output + d).slice(-30_000)));
  child.stderr?.on('data', (d) => (output = (output + d).slice(-30_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Writes passwd, acl and mosquitto.conf with the real CLI (npm run mosquitto-config). */
export function generateMosquittoFiles(out: string, port: number): string {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'app/mosquitto-config.ts',
      '--out',
      out,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--user',
      userInfo().username,
      '--no-persistence',
    ],
    {
      env: { ...process.env, MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD },
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`mosquitto-config failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

export async function startMosquitto(dir: string): Promise<Proc & { port: number }> {
  requireMosquitto();
  const port = await freePort();
  generateMosquittoFiles(dir, port);
  const proc = track('mosquitto', spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] }));
  await waitFor(() => /running/.test(proc.output()) || undefined, `mosquitto to start (output: ${proc.output()})`, 15_000);
  return { ...proc, port };
}

/** `node --import tsx app/main.ts --only PART` with the given environment. */
export function spawnPart(name: string, part: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts', '--only', part], {
    env: { ...process.env, SIMULATE: 'false', LOG_LEVEL: 'info', BATCH_INTERVAL: '20ms', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(name, child);
}

export async function waitHealthy(
  proc: Proc,
  httpPort: number,
  accept: (h: { status: string; checks: Record<string, unknown> }) => boolean = () => true,
  timeoutMs = 90_000,
) {
  return waitFor(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${proc.output().slice(-2000)}`);
      const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
      const h = (await res.json()) as { status: string; checks: Record<string, unknown> };
      return accept(h) ? h : undefined;
    },
    `${proc.name} to be healthy (output: ${proc.output().slice(-1500)})`,
    timeoutMs,
    200,
  );
}

/** The value of one sample in Prometheus text, e.g. metricValue(text, 'farm_readings_accepted_total'). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

export async function metricsOf(httpPort: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
}
