import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Helper processes of the benchmark (load generator, fan-in subscriber, socket.io clients): each is `node
 * --import tsx <script>` with an IPC channel, so it has its own event loop and its CPU does not blur the
 * service's. Messages are plain objects with a `type`.
 */
export interface Message {
  type: string;
  [key: string]: unknown;
}

export interface ChildHandle {
  readonly pid: number;
  send(msg: Message): void;
  /** Resolves once the child said `ready` (remembered, however early it came). */
  ready(timeoutMs: number): Promise<void>;
  /** The next message of `type` (or a failure if the child reports `fatal` or exits first). */
  next<T extends Message = Message>(type: string, timeoutMs: number): Promise<T>;
  /** Calls `fn` for every message of `type`; returns the function that stops it. */
  on(type: string, fn: (msg: Message) => void): () => void;
  /** Asks the child to exit (`close` message), then kills it if it has not after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  output(): string;
}

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

export function spawnChild(script: string, name: string): ChildHandle {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url))], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: process.env,
  });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const listeners = new Map<string, Set<(msg: Message) => void>>();
  let exitReason: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitReason = `${name} (pid ${child.pid}) exited with ${code ?? signal}`;
      for (const fns of listeners.values()) for (const fn of fns) fn({ type: '__exit' });
      resolve();
    }),
  );
  child.on('message', (raw) => {
    const msg = raw as Message;
    for (const fn of listeners.get(msg.type) ?? []) fn(msg);
    if (msg.type === 'fatal') for (const fns of listeners.values()) for (const fn of fns) fn(msg);
  });
  const off = (type: string, fn: (msg: Message) => void) => listeners.get(type)?.delete(fn);
  const on = (type: string, fn: (msg: Message) => void) => {
    if (!listeners.has(type)) listeners.set(type, new Set());
    listeners.get(type)!.add(fn);
    return () => void off(type, fn);
  };

  let isReady = false;
  on('ready', () => void (isReady = true));
  const handle: ChildHandle = {
    pid: child.pid!,
    async ready(timeoutMs) {
      if (!isReady) await handle.next('ready', timeoutMs);
    },
    send(msg) {
      if (child.connected) child.send(msg);
    },
    next<T extends Message>(type: string, timeoutMs: number): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (exitReason) return reject(new Error(`${exitReason} before sending "${type}":\n${output.slice(-2000)}`));
        const done = (fn: () => void) => {
          clearTimeout(timer);
          off(type, handler);
          fn();
        };
        const handler = (msg: Message) => {
          if (msg.type === 'fatal') return done(() => reject(new Error(`${name}: ${String(msg.message)}`)));
          if (msg.type === '__exit') return done(() => reject(new Error(`${exitReason} before sending "${type}":\n${output.slice(-2000)}`)));
          if (msg.type === type) done(() => resolve(msg as T));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${name} sent no "${type}" within ${timeoutMs} ms:\n${output.slice(-2000)}`))), timeoutMs);
        on(type, handler);
      });
    },
    on,
    async stop(graceMs = 15_000) {
      if (exitReason) return;
      handle.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    output: () => output,
  };
  return handle;
}

/** Child side: answer messages, report a crash as `fatal` (with what to do) instead of dying silently. */
export function serveParent(handle: (msg: Message) => Promise<void> | void): void {
  const send = (msg: Message) => process.send?.(msg);
  const fatal = (err: unknown) => {
    send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    setTimeout(() => process.exit(1), 100);
  };
  process.on('message', (msg: Message) => {
    if (msg.type === 'close') return void Promise.resolve(handle(msg)).finally(() => process.exit(0));
    Promise.resolve()
      .then(() => handle(msg))
      .catch(fatal);
  });
  process.on('uncaughtException', fatal);
  process.on('disconnect', () => process.exit(0));
}

export function toParent(msg: Message): void {
  process.send?.(msg);
}
