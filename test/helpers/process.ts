import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitFor } from './ports.js';

/** The service as a separate OS process (node + tsx, one pid we own), for crash and shutdown tests. */
export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnService(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    env: { ...process.env, SIMULATE: 'false', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, pid: child.pid!, output: () => output, exited };
}

export async function waitHealthy(httpPort: number, proc: ServiceProcess, timeoutMs = 120_000) {
  try {
    return await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
        return res.ok ? ((await res.json()) as { status: string; checks: Record<string, unknown> }) : undefined;
      },
      'service health',
      timeoutMs,
      100,
    );
  } catch (err) {
    // The service's own words at the moment of giving up (not at the start of the wait, when it had said nothing yet).
    throw new Error(`${(err as Error).message} (service output: ${proc.output().slice(-800) || 'none'})`, { cause: err });
  }
}

export async function servicePorts() {
  return { MQTT_PORT: String(await freePort()), HTTP_PORT: String(await freePort()) };
}
