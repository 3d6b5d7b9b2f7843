import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../ingest/batcher.js';

describe('batcher (group commit)', () => {
  it('writes items added together in one call, in arrival order, and resolves after the write', async () => {
    const writes: number[][] = [];
    const b = createBatcher<number>(async (items) => void writes.push(items), { maxSize: 100, maxDelayMs: 10 });
    await Promise.all([b.add([1, 2]), b.add([3]), b.add([4, 5])]);
    expect(writes).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('flushes as soon as the size bound is reached', async () => {
    const writes: number[][] = [];
    const b = createBatcher<number>(async (items) => void writes.push(items), { maxSize: 3, maxDelayMs: 60_000 });
    await Promise.all([b.add([1, 2]), b.add([3, 4])]);
    expect(writes).toEqual([[1, 2, 3, 4]]);
  });

  it('rejects the adders of a failed write, so nothing is acknowledged that was not stored', async () => {
    let fail = true;
    const stored: number[] = [];
    const b = createBatcher<number>(
      async (items) => {
        if (fail) throw new Error('disk full');
        stored.push(...items);
      },
      { maxSize: 10, maxDelayMs: 5 },
    );
    await expect(b.add([1])).rejects.toThrow('disk full');
    fail = false;
    await b.add([2]);
    expect(stored).toEqual([2]);
  });

  it('counts items as unsettled from add until their write finished', async () => {
    let release!: () => void;
    const b = createBatcher<number>(() => new Promise<void>((resolve) => (release = resolve)), { maxSize: 2, maxDelayMs: 60_000 });
    const first = b.add([1, 2]); // full: handed to the write at once
    const second = b.add([3]);
    expect(b.pending()).toBe(1);
    expect(b.unsettled()).toBe(3);
    await new Promise((r) => setImmediate(r));
    release();
    await first;
    expect(b.unsettled()).toBe(1);
    const flushed = b.flush();
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all([second, flushed]);
    expect(b.unsettled()).toBe(0);
  });

  it('gives every add to one write the same promise, and tells the write that promise and when each add came', async () => {
    const seen: { items: number[]; addedAt: number; same: boolean }[] = [];
    // The write runs after the 5 ms delay, by which time `first` holds the first add's promise.
    const b = createBatcher<number>(async (items, batch) => void seen.push({ items, addedAt: batch.addedAt.length, same: batch.settled === first }), {
      maxSize: 100,
      maxDelayMs: 5,
    });
    const first = b.add([1]);
    const second = b.add([2, 3]);
    expect(second).toBe(first);
    await first;
    const third = b.add([4]);
    expect(third).not.toBe(first);
    await third;
    expect(seen).toEqual([
      { items: [1, 2, 3], addedAt: 2, same: true },
      { items: [4], addedAt: 1, same: false },
    ]);
  });
});
