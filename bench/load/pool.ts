import { spawnChild, type ChildHandle, type Message } from '../ipc.js';
import type { LoadCounters, LoadDeviceSpec, LoadProgress, RunResult, RunSpec } from './protocol.js';

/**
 * The load generator as seen from the benchmark: `workers` child processes sharing the devices, driven
 * together and reported as one.
 */
export interface LoadPool {
  readonly pids: number[];
  /** Connects every device, at most `concurrency` CONNECTs in flight over all workers (default 100). */
  connect(o: {
    host: string;
    port: number;
    concurrency?: number;
    timeoutMs?: number;
    onProgress?: (connected: number, failed: number) => void;
  }): Promise<{ connected: number; failed: number; retries: number; ms: number; lastError?: string }>;
  /** Publishes per `spec`; `onProgress` gets the summed counters every 250 ms. */
  run(spec: RunSpec, onProgress?: (c: LoadProgress) => void): Promise<RunResult>;
  stopEarly(): void;
  close(): Promise<void>;
}

export async function createLoadPool(devices: LoadDeviceSpec[], workers: number): Promise<LoadPool> {
  const n = Math.max(1, Math.min(workers, devices.length));
  const children: ChildHandle[] = [];
  for (let i = 0; i < n; i++) children.push(spawnChild('./load/worker.ts', `load generator ${i + 1}`));
  await Promise.all(children.map((c) => c.ready(60_000)));
  const shares = children.map((_, i) => devices.filter((_d, j) => j % n === i));

  return {
    pids: children.map((c) => c.pid),
    async connect(o) {
      const latest = children.map(() => ({ connected: 0, failed: 0 }));
      const offs = children.map((c, i) =>
        c.on('connecting', (m) => {
          latest[i] = { connected: m.connected as number, failed: m.failed as number };
          o.onProgress?.(
            latest.reduce((s, x) => s + x.connected, 0),
            latest.reduce((s, x) => s + x.failed, 0),
          );
        }),
      );
      // `concurrency` is for the whole pool: the broker caps unauthenticated sockets per address (256 by default).
      const perWorker = Math.max(1, Math.floor((o.concurrency ?? 100) / children.length));
      children.forEach((c, i) => c.send({ type: 'connect', host: o.host, port: o.port, devices: shares[i], concurrency: perWorker }));
      const results = await Promise.all(children.map((c) => c.next('connected', o.timeoutMs ?? 300_000))).finally(() => offs.forEach((off) => off()));
      return {
        connected: results.reduce((s, r) => s + (r.connected as number), 0),
        failed: results.reduce((s, r) => s + (r.failed as number), 0),
        retries: results.reduce((s, r) => s + ((r.retries as number) ?? 0), 0),
        ms: Math.max(...results.map((r) => r.ms as number)),
        lastError: results.map((r) => r.lastError as string | undefined).find(Boolean),
      };
    },
    async run(spec, onProgress) {
      const latest: LoadProgress[] = children.map(() => ({ sent: 0, acked: 0, errors: 0, disconnects: 0, behind: 0, waiting: 0, at: 0 }));
      const listener = (i: number) => (m: Message) => {
        latest[i] = m as unknown as LoadProgress;
        onProgress?.(sum(latest));
      };
      const offs = children.map((c, i) => c.on('progress', listener(i)));
      children.forEach((c, i) =>
        c.send({
          type: 'run',
          run: { ...spec, ratePerSec: spec.ratePerSec === undefined ? undefined : (spec.ratePerSec * shares[i].length) / devices.length },
        }),
      );
      const results = (await Promise.all(children.map((c) => c.next('ran', spec.durationMs + (spec.drainMs ?? 30_000) + 30_000))).finally(() =>
        offs.forEach((off) => off()),
      )) as unknown as RunResult[];
      return {
        ...sum(results),
        unacked: results.reduce((s, r) => s + r.unacked, 0),
        startedAt: Math.min(...results.map((r) => r.startedAt)),
        endedAt: Math.max(...results.map((r) => r.endedAt)),
        lastError: results.map((r) => r.lastError).find(Boolean),
      };
    },
    stopEarly() {
      for (const c of children) c.send({ type: 'stop' });
    },
    async close() {
      await Promise.all(children.map((c) => c.stop(60_000)));
    },
  };
}

function sum<T extends LoadCounters>(parts: T[]): LoadProgress {
  const total = { sent: 0, acked: 0, errors: 0, disconnects: 0, behind: 0, waiting: 0, at: 0 };
  for (const p of parts) {
    total.sent += p.sent;
    total.acked += p.acked;
    total.errors += p.errors;
    total.disconnects += p.disconnects;
    total.behind += p.behind;
    total.waiting += (p as Partial<LoadProgress>).waiting ?? 0;
    total.at = Math.max(total.at, (p as { at?: number }).at ?? 0);
  }
  return total;
}
