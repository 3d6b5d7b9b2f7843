import type { Logger } from '../core/logger.js';
import type { Clock } from './clock.js';

/**
 * Writes alerts and command records to the store off the hot path: items queue up during one
 * synchronous evaluation and go out as one batch. A failed write is logged and kept (bounded), and tried
 * again with backoff (1 s doubling to 30 s) even when nothing new arrives, so a store hiccup does not
 * lose the history. With InfluxDB the store's writeAlerts/writeCommands resolve once the items are in the
 * on-disk outbox (store/buffered-store.ts), so an InfluxDB outage never reaches this retry: only a failing
 * disk under DATA_DIR (or the embedded store failing) does, and what is held here then is lost if the process dies.
 */
export interface BatchWriter<T> {
  push(item: T): void;
  flush(): Promise<void>;
  /** Items not yet in the store. */
  backlog(): number;
  /** Cancels a scheduled retry (the engine stops); flush() still writes what is queued. */
  stop(): void;
}

export interface BatchWriterOptions {
  clock: Clock;
  maxKept?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export function createBatchWriter<T>(write: (items: T[]) => Promise<void>, logger: Logger, what: string, o: BatchWriterOptions): BatchWriter<T> {
  const maxKept = o.maxKept ?? 10_000;
  const retryMinMs = o.retryMinMs ?? 1000;
  const retryMaxMs = o.retryMaxMs ?? 30_000;
  let queue: T[] = [];
  let running: Promise<void> | undefined;
  let scheduled = false;
  let failures = 0;
  let retryTimer: unknown;
  let stopped = false;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await write(batch);
        if (failures > 0) logger.info({ count: batch.length }, `storing ${what} works again`);
        failures = 0;
      } catch (err) {
        const dropped = Math.max(0, batch.length + queue.length - maxKept);
        queue = [...batch, ...queue].slice(-maxKept);
        const delayMs = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(failures, 20));
        failures++;
        logger.error({ err, count: queue.length, dropped, retryInMs: delayMs }, `storing ${what} failed; retrying`);
        if (!stopped && retryTimer === undefined) {
          retryTimer = o.clock.setTimeout(() => {
            retryTimer = undefined;
            void start();
          }, delayMs);
        }
        return;
      }
    }
  }

  function start(): Promise<void> {
    running ??= drain().finally(() => (running = undefined));
    return running;
  }

  return {
    push(item) {
      stopped = false; // an engine started again after stop() writes (and retries) again
      queue.push(item);
      if (scheduled || retryTimer !== undefined) return; // a retry is due: it takes this item along
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        void start();
      });
    },
    async flush() {
      if (running) await running;
      if (queue.length > 0) await start();
    },
    backlog: () => queue.length,
    stop() {
      stopped = true;
      if (retryTimer !== undefined) o.clock.clearTimeout(retryTimer);
      retryTimer = undefined;
    },
  };
}
