import type { Logger } from 'pino';
import type { Outbox } from './outbox.js';
import { StoreError, type Store } from './store.js';

/**
 * A Store in front of InfluxDB whose writeReadings only waits for the on-disk outbox, so an InfluxDB outage
 * or restart never blocks ingest nor loses readings. A single drainer sends the outbox to the inner store
 * in order, oldest first, and deletes a batch only after InfluxDB confirmed it.
 * Reads, alerts and commands go straight to the inner store: readings still in the outbox are not visible
 * to history() until they are delivered. An InfluxDB that cannot be reached at start does not stop the
 * service (the outbox accepts; the drainer prepares InfluxDB once it answers); wrong credentials still do.
 * close() sends the backlog to a healthy InfluxDB for up to closeFlushMs and never waits on a failing one.
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
  /** Longest wait between two attempts while InfluxDB is down: also the longest delay before a recovered InfluxDB is noticed. */
  retryMaxMs?: number;
  /** On close, how long to keep sending the backlog to a healthy InfluxDB before leaving the rest for the next start. */
  closeFlushMs?: number;
  clock?: DrainClock;
}

export interface BufferedStoreStats {
  outboxDepth: number;
  outboxOldestAgeMs: number;
  writtenTotal: number;
  failedAttempts: number;
  dead: number;
  /** Failed attempts in a row; 0 once a write succeeds. */
  consecutiveFailures: number;
  /** The error of the current run of failures; cleared once a write succeeds (health is then ok again). */
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
  const retryMaxMs = options.retryMaxMs ?? 10_000;
  const closeFlushMs = options.closeFlushMs ?? 5_000;
  const clock = options.clock ?? realClock;
  const counters = { writtenTotal: 0, failedAttempts: 0, consecutiveFailures: 0, lastError: undefined as string | undefined };

  let drainer: Promise<void> | undefined;
  let stopping = false;
  /** close() is sending the backlog: the first failure ends that attempt instead of backing off. */
  let closing = false;
  /** Set once close() gave up waiting for an in-flight write: the drainer must not touch the closed outbox. */
  let abandoned = false;
  /** InfluxDB was unreachable at start: the drainer prepares it (database, checks) before the first write. */
  let initPending = false;
  let idle = false;
  let wakeIdle: (() => void) | undefined;
  let backoff = new AbortController();
  const flushWaiters = new Set<{ resolve(): void; reject(err: Error): void }>();

  function wake() {
    wakeIdle?.();
    wakeIdle = undefined;
  }

  async function drain() {
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
        if (initPending) {
          await inner.init();
          initPending = false;
          logger.info('InfluxDB reachable: prepared; sending the outbox');
        }
        await inner.writeReadings(entries.map((e) => e.reading));
        // The batch stays in the outbox and is sent again after the restart: InfluxDB keeps one point per series and time.
        if (abandoned) return;
        outbox.remove(lastSeq);
        counters.writtenTotal += entries.length;
        if (counters.consecutiveFailures > 0) logger.info({ depth: outbox.depth() }, 'store writes succeed again; sending the backlog');
        counters.consecutiveFailures = 0;
        counters.lastError = undefined;
        limit = Math.min(batchSize, limit * 2);
      } catch (err) {
        if (abandoned) return;
        counters.failedAttempts++;
        const message = err instanceof Error ? err.message : String(err);
        counters.lastError = message;
        if (closing) {
          for (const w of flushWaiters) w.reject(new StoreError('STORE_WRITE', `store failing at shutdown (${message})`, true));
          flushWaiters.clear();
        }
        // Unknown errors count as retryable: a reading is only ever set aside on the store's explicit verdict.
        const retryable = !(err instanceof StoreError) || err.retryable;
        if (retryable) {
          const delayMs = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(counters.consecutiveFailures, 30));
          counters.consecutiveFailures++;
          logger.warn({ err: message, depth: outbox.depth(), retryInMs: delayMs, attempt: counters.consecutiveFailures }, 'store write failed; readings stay in the outbox');
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
      consecutiveFailures: counters.consecutiveFailures,
      lastError: counters.lastError,
    };
  }

  function flush(timeoutMs = 30_000): Promise<void> {
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
  }

  return {
    kind: inner.kind,

    async init() {
      try {
        await inner.init();
      } catch (err) {
        // InfluxDB down when the service starts (a farm coming back from a power cut starts both at once):
        // readings are accepted into the outbox meanwhile. Wrong credentials or a missing database still stop start-up.
        if (!(err instanceof StoreError && err.code === 'STORE_UNREACHABLE' && err.retryable)) throw err;
        initPending = true;
        counters.lastError = err.message;
        counters.consecutiveFailures = 1;
        logger.error({ err: err.message }, 'InfluxDB not reachable at start: readings are kept in the outbox until it is');
      }
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

    flush,

    history: (q) => inner.history(q),
    latest: (filter) => inner.latest(filter),
    raw: (q) => inner.raw(q),
    writeAlerts: (events) => inner.writeAlerts(events),
    alerts: (q) => inner.alerts(q),
    writeCommands: (records) => inner.writeCommands(records),
    commands: (q) => inner.commands(q),

    async close() {
      if (stopping) return;
      closing = true;
      // A healthy InfluxDB gets the backlog now (bounded); a failing one is not waited for: the outbox keeps it.
      if (drainer && counters.consecutiveFailures === 0 && outbox.depth() > 0) {
        await flush(closeFlushMs).catch((err: Error) => logger.warn({ err: err.message }, 'outbox not empty at shutdown; the rest is sent after the next start'));
      }
      stopping = true;
      backoff.abort();
      wake();
      // Lets an in-flight write finish so its outcome is recorded, but not longer than a slow InfluxDB would hold shutdown.
      let timer: NodeJS.Timeout | undefined;
      const settled = await Promise.race([drainer?.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), closeFlushMs)))]);
      clearTimeout(timer);
      if (settled === false) {
        abandoned = true;
        logger.warn({ depth: outbox.depth() }, 'a write to the store was still running at shutdown; its readings stay in the outbox and are sent again after the next start');
      }
      for (const w of flushWaiters) w.reject(new StoreError('STORE_WRITE', 'store closed before the outbox was empty; the rest is sent after restart'));
      flushWaiters.clear();
      outbox.close();
      await inner.close();
    },
  };
}
