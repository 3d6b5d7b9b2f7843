import type { Logger } from 'pino';
import type { Outbox } from './outbox.js';
import { StoreError, type Store } from './store.js';

/**
 * A Store in front of InfluxDB whose writeReadings only waits for the on-disk outbox, so an InfluxDB outage
 * or restart never blocks ingest nor loses readings. A single drainer sends the outbox to the inner store
 * in order, oldest first, and deletes a batch only after InfluxDB confirmed it.
 * Reads, alerts and commands go straight to the inner store: readings still in the outbox are not visible
 * to history() until they are delivered.
 */
export interface DrainClock {
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface BufferedStoreOptions {
  logger: Logger;
  batchSize?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  clock?: DrainClock;
}

export interface BufferedStoreStats {
  outboxDepth: number;
  outboxOldestAgeMs: number;
  writtenTotal: number;
  failedAttempts: number;
  dead: number;
  lastError?: string;
}

export interface BufferedStore extends Store {
  stats(): BufferedStoreStats;
  /** Waits until every reading in the outbox is delivered (or dead-lettered); throws after `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
}

export const realClock: DrainClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    }),
};

export function createBufferedStore(inner: Store, outbox: Outbox, options: BufferedStoreOptions): BufferedStore {
  const logger = options.logger.child({ store: 'outbox' });
  const batchSize = options.batchSize ?? 5000;
  const retryMinMs = options.retryMinMs ?? 500;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  const clock = options.clock ?? realClock;
  const counters = { writtenTotal: 0, failedAttempts: 0, lastError: undefined as string | undefined };

  let drainer: Promise<void> | undefined;
  let stopping = false;
  let idle = false;
  let wakeIdle: (() => void) | undefined;
  let backoff = new AbortController();
  const flushWaiters = new Set<{ resolve(): void; reject(err: Error): void }>();

  function wake() {
    wakeIdle?.();
    wakeIdle = undefined;
  }

  async function drain() {
    let failures = 0;
    // Shrinks when InfluxDB rejects a batch as bad data, to isolate the few readings at fault (bisection).
    let limit = batchSize;
    while (!stopping) {
      const entries = outbox.peek(limit);
      if (entries.length === 0) {
        idle = true;
        for (const w of flushWaiters) w.resolve();
        flushWaiters.clear();
        await new Promise<void>((resolve) => (wakeIdle = resolve));
        idle = false;
        continue;
      }
      const lastSeq = entries[entries.length - 1].seq;
      try {
        await inner.writeReadings(entries.map((e) => e.reading));
        outbox.remove(lastSeq);
        counters.writtenTotal += entries.length;
        if (failures > 0) logger.info({ depth: outbox.depth() }, 'store writes succeed again; sending the backlog');
        failures = 0;
        limit = Math.min(batchSize, limit * 2);
      } catch (err) {
        counters.failedAttempts++;
        const message = err instanceof Error ? err.message : String(err);
        counters.lastError = message;
        // Unknown errors count as retryable: a reading is only ever set aside on the store's explicit verdict.
        const retryable = !(err instanceof StoreError) || err.retryable;
        if (retryable) {
          const delayMs = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(failures, 30));
          failures++;
          logger.warn({ err: message, depth: outbox.depth(), retryInMs: delayMs, attempt: failures }, 'store write failed; readings stay in the outbox');
          await clock.sleep(delayMs, backoff.signal);
          if (backoff.signal.aborted) backoff = new AbortController();
        } else if (entries.length > 1) {
          limit = Math.ceil(entries.length / 2);
        } else {
          outbox.deadLetter(lastSeq, message);
          logger.error({ err: message, reading: entries[0].reading, seq: lastSeq }, 'store refused a reading as invalid: moved to the dead table, not retried');
        }
      }
    }
  }

  function stats(): BufferedStoreStats {
    return {
      outboxDepth: outbox.depth(),
      outboxOldestAgeMs: outbox.oldestAgeMs(clock.now()),
      writtenTotal: counters.writtenTotal,
      failedAttempts: counters.failedAttempts,
      dead: outbox.deadCount(),
      lastError: counters.lastError,
    };
  }

  return {
    kind: inner.kind,

    async init() {
      await inner.init();
      if (!drainer && !stopping) {
        drainer = drain().catch((err) => {
          // Only the outbox itself failing (disk) gets here: nothing can be delivered until a restart.
          logger.fatal({ err }, 'outbox drainer stopped');
          for (const w of flushWaiters) w.reject(err as Error);
        });
      }
    },

    async writeReadings(readings) {
      try {
        outbox.append(readings);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new StoreError('STORE_WRITE', `cannot append to the outbox (${message}): check free space and permissions of DATA_DIR`, true);
      }
      wake();
    },

    stats,

    flush(timeoutMs = 30_000) {
      if (!drainer) return Promise.reject(new StoreError('STORE_WRITE', 'the outbox drainer is not running: call init() first'));
      if (idle && outbox.depth() === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          resolve: () => (clearTimeout(timer), resolve()),
          reject: (err: Error) => (clearTimeout(timer), reject(err)),
        };
        const timer = setTimeout(() => {
          flushWaiters.delete(waiter);
          const s = stats();
          reject(new StoreError('STORE_WRITE', `outbox still holds ${s.outboxDepth} readings after ${timeoutMs} ms (last error: ${s.lastError ?? 'none'})`, true));
        }, timeoutMs);
        flushWaiters.add(waiter);
        // A flush means "try now": cut a running back-off short.
        backoff.abort();
        wake();
      });
    },

    history: (q) => inner.history(q),
    latest: (filter) => inner.latest(filter),
    raw: (q) => inner.raw(q),
    writeAlerts: (events) => inner.writeAlerts(events),
    alerts: (q) => inner.alerts(q),
    writeCommands: (records) => inner.writeCommands(records),
    commands: (q) => inner.commands(q),

    async close() {
      stopping = true;
      backoff.abort();
      wake();
      await drainer; // lets an in-flight write finish so its outcome is recorded before the outbox closes
      for (const w of flushWaiters) w.reject(new StoreError('STORE_WRITE', 'store closed before the outbox was empty; the rest is sent after restart'));
      flushWaiters.clear();
      outbox.close();
      await inner.close();
    },
  };
}
