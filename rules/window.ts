/**
 * Sliding time window over one metric: sum, mean, max, min and rate over (now - windowMs, now].
 *
 * Memory is bounded: samples closer together than windowMs / MAX_BUCKETS share a bucket, so a 24 h
 * rainfall window holds at most ~512 buckets however often the gauge reports. Results are exact while
 * samples are further apart than that resolution (a 1 h window: 7 s), and otherwise off by at most
 * one bucket's worth at the old edge.
 */
export type Agg = 'sum' | 'mean' | 'max' | 'min' | 'rate';

export const MAX_BUCKETS = 512;

interface Bucket {
  start: number; // bucket-aligned start
  firstTs: number;
  firstValue: number;
  lastTs: number;
  lastValue: number;
  sum: number;
  count: number;
  min: number;
  max: number;
}

export interface WindowState {
  windowMs: number;
  resolutionMs: number;
  buckets: Bucket[]; // oldest first
  sum: number; // running totals so sum/mean need no scan
  count: number;
}

export function createWindow(windowMs: number): WindowState {
  return { windowMs, resolutionMs: Math.max(1, Math.floor(windowMs / MAX_BUCKETS)), buckets: [], sum: 0, count: 0 };
}

/** Adds a sample; a sample already outside the window (late batch) is ignored. */
export function addSample(w: WindowState, ts: number, value: number, now: number): void {
  if (ts <= now - w.windowMs) return;
  const start = ts - (ts % w.resolutionMs);
  const b = w.buckets;
  // Readings nearly always arrive in order: look from the newest end.
  let i = b.length - 1;
  while (i >= 0 && b[i].start > start) i--;
  if (i >= 0 && b[i].start === start) {
    const k = b[i];
    if (ts < k.firstTs) (k.firstTs = ts), (k.firstValue = value);
    if (ts >= k.lastTs) (k.lastTs = ts), (k.lastValue = value);
    k.sum += value;
    k.count++;
    if (value < k.min) k.min = value;
    if (value > k.max) k.max = value;
  } else {
    b.splice(i + 1, 0, { start, firstTs: ts, firstValue: value, lastTs: ts, lastValue: value, sum: value, count: 1, min: value, max: value });
  }
  w.sum += value;
  w.count++;
}

/** Drops buckets whose newest sample has left the window; returns whether anything was dropped. */
export function evict(w: WindowState, now: number): boolean {
  const edge = now - w.windowMs;
  let n = 0;
  while (n < w.buckets.length && w.buckets[n].lastTs <= edge) {
    w.sum -= w.buckets[n].sum;
    w.count -= w.buckets[n].count;
    n++;
  }
  if (n > 0) w.buckets.splice(0, n);
  if (w.count === 0) w.sum = 0; // no drift from float subtraction once empty
  return n > 0;
}

/**
 * The aggregate at `now`. An empty window sums to 0 (no rain reported = no rain); the other
 * aggregates have no value then. `rate` is the change per hour between the oldest and newest sample
 * (e.g. water_level rising 0.4 m/h) and needs two samples at different times.
 */
export function aggregate(w: WindowState, agg: Agg, now: number): number | undefined {
  evict(w, now);
  const b = w.buckets;
  if (agg === 'sum') return w.sum;
  if (w.count === 0) return undefined;
  switch (agg) {
    case 'mean':
      return w.sum / w.count;
    case 'max':
      return b.reduce((m, k) => Math.max(m, k.max), -Infinity);
    case 'min':
      return b.reduce((m, k) => Math.min(m, k.min), Infinity);
    case 'rate': {
      const first = b[0];
      const last = b[b.length - 1];
      const hours = (last.lastTs - first.firstTs) / 3_600_000;
      return hours > 0 ? (last.lastValue - first.firstValue) / hours : undefined;
    }
  }
}
