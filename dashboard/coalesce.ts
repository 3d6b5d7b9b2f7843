import type { Reading } from '../core/domain.js';
import { isIncrement } from '../core/metrics-catalog.js';

/**
 * Merges bursts before they go to browsers. Two limits:
 * - per key (a device): at most one update every `intervalMs`; what arrives in between is merged (the merge
 *   decides how) and leaves when the interval is up. A sensor reporting 50 times a second costs a browser at
 *   most 1000 / intervalMs updates a second.
 * - per process: everything ready leaves together, once every `tickMs`, as one batch per event.
 * A device that reports less often than `intervalMs` (every real sensor) is therefore delayed by at most
 * `tickMs`, not by the whole interval.
 */
export interface Coalescer<T> {
  add(item: T): void;
  flushNow(): void;
  pending(): number;
  stop(): void;
}

export interface CoalescerOptions<T> {
  intervalMs: number;
  /** How long items wait to be batched with others; defaults to min(50, intervalMs). */
  tickMs?: number;
  key: (item: T) => string;
  merge: (older: T, newer: T) => T;
  flush: (batch: T[]) => void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

export function createCoalescer<T>(options: CoalescerOptions<T>): Coalescer<T> {
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  const now = options.now ?? Date.now;
  const tickMs = Math.min(options.tickMs ?? 50, options.intervalMs);
  let pending = new Map<string, T>();
  const lastSent = new Map<string, number>();
  let timer: unknown;

  function schedule(): void {
    if (timer === undefined && pending.size > 0) timer = setTimer(tick, tickMs);
  }

  function send(batch: T[]): void {
    if (batch.length > 0) options.flush(batch);
  }

  /** Sends every key whose interval is up; the others wait for a later tick. */
  function tick(): void {
    timer = undefined;
    const t = now();
    const batch: T[] = [];
    for (const [k, item] of pending) {
      if (t - (lastSent.get(k) ?? -Infinity) < options.intervalMs) continue;
      batch.push(item);
      pending.delete(k);
      lastSent.set(k, t);
    }
    // Forget keys that have been quiet for a whole interval: the map stays as small as the active devices.
    for (const [k, at] of lastSent) if (t - at >= options.intervalMs && !pending.has(k)) lastSent.delete(k);
    send(batch);
    schedule();
  }

  function flushNow(): void {
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    const t = now();
    const batch = [...pending.values()];
    for (const k of pending.keys()) lastSent.set(k, t);
    pending = new Map();
    send(batch);
  }

  return {
    add(item) {
      const k = options.key(item);
      const older = pending.get(k);
      pending.set(k, older ? options.merge(older, item) : item);
      schedule();
    },
    flushNow,
    pending: () => pending.size,
    stop() {
      if (timer !== undefined) clearTimer(timer);
      timer = undefined;
      pending.clear();
      lastSent.clear();
    },
  };
}

/**
 * Readings of one device merge metric by metric: a level keeps its newest value, an increment (rain_mm) adds up,
 * so two rain reports within one screen update show what fell in both (core/metrics-catalog.ts says which is which).
 */
export function mergeReadings(older: Reading, newer: Reading): Reading {
  const first = newer.ts >= older.ts ? older : newer;
  const second = first === older ? newer : older;
  // Copied field by field, not with spreads: a fast device is merged on every reading (issue 18).
  const metrics: Record<string, number> = {};
  for (const metric in first.metrics) metrics[metric] = first.metrics[metric];
  for (const metric in second.metrics)
    metrics[metric] = metric in first.metrics && isIncrement(metric) ? first.metrics[metric] + second.metrics[metric] : second.metrics[metric];
  return { site: second.site, zone: second.zone, kind: second.kind, device: second.device, ts: second.ts, metrics };
}

/** For state-like events only the newest counts. */
export function newest<T extends { ts: number }>(older: T, newer: T): T {
  return newer.ts >= older.ts ? newer : older;
}
