/**
 * Group commit: items added within `maxDelayMs` (or until `maxSize`) are written in one call, and every
 * add() resolves only when the write that carried its items has succeeded. One write runs at a time,
 * so items reach the store in the order they arrived.
 */
export interface Batcher<T> {
  add(items: T[]): Promise<void>;
  flush(): Promise<void>;
  /** Items waiting for the next write. */
  pending(): number;
  /** Items not yet written: waiting, or in a write that has not finished. */
  unsettled(): number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export function createBatcher<T>(write: (items: T[]) => Promise<void>, opts: { maxSize: number; maxDelayMs: number }): Batcher<T> {
  let queue: T[] = [];
  let waiters: Waiter[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let inWrite = 0;

  function schedule() {
    if (queue.length >= opts.maxSize) void flush();
    else if (!timer) timer = setTimeout(() => void flush(), opts.maxDelayMs);
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return writing;
    const items = queue;
    const batchWaiters = waiters;
    queue = [];
    waiters = [];
    inWrite += items.length;
    writing = writing.then(async () => {
      try {
        await write(items);
        inWrite -= items.length;
        for (const w of batchWaiters) w.resolve();
      } catch (err) {
        inWrite -= items.length;
        for (const w of batchWaiters) w.reject(err);
      }
    });
    return writing;
  }

  return {
    add(items) {
      if (items.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push(...items);
        waiters.push({ resolve, reject });
        schedule();
      });
    },
    flush,
    pending: () => queue.length,
    unsettled: () => queue.length + inWrite,
  };
}
