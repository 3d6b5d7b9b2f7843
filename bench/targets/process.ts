import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvSettings } from '../../core/config/env.js';

/**
 * A system under test as its own OS process (`node [--cpu-prof] --import tsx <script>`), so its CPU time and
 * RSS can be read from /proc/<pid> alone and it never shares an event loop with the load generator.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface NodeProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  output(): string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The service's settings from the caller's shell (INFLUX_URL, MQTT_URL ...) must not leak into a benchmark run. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(EnvSettings.shape)) delete env[key];
  return env;
}

/**
 * The node flags `npm start` runs the service with (package.json scripts.start: `node <flags> scripts/start.mjs`,
 * which runs the service in that same node process), so the bench's service gets them too.
 */
export function startScriptNodeFlags(packageJson = readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')): string[] {
  const start = (JSON.parse(packageJson) as { scripts: { start: string } }).scripts.start.trim().split(/\s+/);
  const end = start.findIndex((arg, i) => i > 0 && !arg.startsWith('--'));
  if (start[0] !== 'node' || end < 0 || start[end] !== 'scripts/start.mjs')
    throw new Error(`package.json "start" is "${start.join(' ')}", not "node [flags] scripts/start.mjs": update bench/targets/process.ts`);
  return start.slice(1, end);
}

export function startNodeProcess(script: string, env: Record<string, string>, opts: { profileDir?: string; nodeFlags?: string[] }): NodeProcess {
  const args: string[] = [...(opts.nodeFlags ?? [])];
  if (opts.profileDir) {
    mkdirSync(opts.profileDir, { recursive: true });
    args.push('--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`);
  }
  args.push('--import', 'tsx', script);
  return startProcess(process.execPath, args, env);
}

export function startProcess(command: string, args: string[], env: Record<string, string>): NodeProcess {
  const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve((exit = { code, signal }))),
  );
  // If the benchmark dies, do not leave a service running behind it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    pid: child.pid!,
    child,
    output: () => output,
    exited: () => exit !== undefined,
    async stop(graceMs = 30_000) {
      process.off('exit', killOnExit);
      if (exit) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

export async function waitUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs: number,
  everyMs = 100,
  proc?: NodeProcess,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (proc?.exited()) throw new Error(`${what}: the process exited early. Its last output:\n${proc.output().slice(-3000)}`);
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${(last as Error).message})` : ''}${proc ? `. Last output:\n${proc.output().slice(-3000)}` : ''}`,
  );
}
