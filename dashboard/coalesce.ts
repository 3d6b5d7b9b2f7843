import type { Reading } from '../core/domain.js';

/**
 * Merges bursts before they go to browsers: items with the same key within `intervalMs` become one (the merge
 * decides how), and everything pending leaves together in one flush. A sensor reporting 50 times a second costs
 * a browser at most 1000 / intervalMs updates a second.
 */
export interface Coalescer<T> {
  add(item: T): void;
  flushNow(): void;
  pending(): number;
  stop(): void;
}

export interface CoalescerOptions<T> {
  intervalMs: number;
  key: (item: T) => string;
  merge: (older: T, newer: T) => T;
  flush: (batch: T[]) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

export function createCoalescer<T>(options: CoalescerOptions<T>): Coalescer<T> {
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  let pending = new Map<string, T>();
  let timer: unknown;

  function flushNow(): void {
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending = new Map();
    options.flush(batch);
  }

  return {
    add(item) {
      const k = options.key(item);
      const older = pending.get(k);
      pending.set(k, older ? options.merge(older, item) : item);
      if (timer === undefined) timer = setTimer(flushNow, options.intervalMs);
    },
    flushNow,
    pending: () => pending.size,
    stop() {
      if (timer !== undefined) clearTimer(timer);
      timer = undefined;
      pending.clear();
    },
  };
}

/** Readings of one device merge metric by metric; the newest value of each metric wins. */
export function mergeReadings(older: Reading, newer: Reading): Reading {
  const [first, second] = newer.ts >= older.ts ? [older, newer] : [newer, older];
  return { ...second, metrics: { ...first.metrics, ...second.metrics } };
}

/** For state-like events only the newest counts. */
export function newest<T extends { ts: number }>(older: T, newer: T): T {
  return newer.ts >= older.ts ? newer : older;
}
