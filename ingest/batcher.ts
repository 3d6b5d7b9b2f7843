/**
 * Group commit: items added within `maxDelayMs` (or until `maxSize`) are written in one call, and every
 * add() resolves only when the write that carried its items has succeeded. One write runs at a time,
 * so items reach the store in the order they arrived.
 *
 * Every add() to one batch gets the same promise, the batch's (one promise per batch rather than one per message:
 * at tens of thousands of messages a second the promises, their callbacks and waiters were a good part of the
 * garbage, issue 18). The write is told that promise and when each add came, so per-message bookkeeping can be done
 * once per batch.
 */
export interface Batcher<T> {
  /** The promise of the write that will carry the items; the same object for every add to that write. */
  add(items: T[]): Promise<void>;
  flush(): Promise<void>;
  /** Items waiting for the next write. */
  pending(): number;
  /** Items not yet written: waiting, or in a write that has not finished. */
  unsettled(): number;
}

export interface BatchInfo {
  /** The promise every add() to this batch got. */
  settled: Promise<void>;
  /** performance.now() of each add() to this batch, in order. */
  addedAt: number[];
}

interface Batch<T> extends BatchInfo {
  items: T[];
  resolve(): void;
  reject(err: unknown): void;
}

export function createBatcher<T>(write: (items: T[], batch: BatchInfo) => Promise<void>, opts: { maxSize: number; maxDelayMs: number }): Batcher<T> {
  let current: Batch<T> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let inWrite = 0;

  function newBatch(): Batch<T> {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const settled = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    // Nobody may be waiting (QoS 0): a failed write is reported by `write` itself, not as an unhandled rejection.
    settled.catch(() => {});
    return { items: [], addedAt: [], settled, resolve, reject };
  }

  function schedule(batch: Batch<T>) {
    if (batch.items.length >= opts.maxSize) void flush();
    else if (!timer) timer = setTimeout(() => void flush(), opts.maxDelayMs);
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = current;
    if (!batch || batch.items.length === 0) return writing;
    current = undefined;
    inWrite += batch.items.length;
    writing = writing.then(async () => {
      try {
        await write(batch.items, batch);
        inWrite -= batch.items.length;
        batch.resolve();
      } catch (err) {
        inWrite -= batch.items.length;
        batch.reject(err);
      }
    });
    return writing;
  }

  return {
    add(items) {
      if (items.length === 0) return Promise.resolve();
      const batch = (current ??= newBatch());
      for (const item of items) batch.items.push(item);
      batch.addedAt.push(performance.now());
      schedule(batch);
      return batch.settled;
    },
    flush,
    pending: () => current?.items.length ?? 0,
    unsettled: () => (current?.items.length ?? 0) + inWrite,
  };
}
