import type { Logger } from '../core/logger.js';

/**
 * Writes alerts and command records to the store off the hot path: items queue up during one
 * synchronous evaluation and go out as one batch. A failed write is logged and kept for the next batch
 * (bounded), so a store hiccup does not lose the history.
 */
export interface BatchWriter<T> {
  push(item: T): void;
  flush(): Promise<void>;
}

export function createBatchWriter<T>(write: (items: T[]) => Promise<void>, logger: Logger, what: string, maxKept = 10_000): BatchWriter<T> {
  let queue: T[] = [];
  let running: Promise<void> | undefined;
  let scheduled = false;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await write(batch);
      } catch (err) {
        logger.error({ err, count: batch.length }, `storing ${what} failed; will retry with the next batch`);
        queue = [...batch, ...queue].slice(-maxKept);
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
      queue.push(item);
      if (scheduled) return;
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
  };
}
