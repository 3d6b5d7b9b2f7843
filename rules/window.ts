/**
 * Sliding time window over one metric: sum, mean, max, min and rate over (now - windowMs, now].
 *
 * Exact, so a windowed rule counts what the store holds for the same span (a late sample in its place, one
 * already outside the window not at all), and the restart replay from the store rebuilds the same sums: each
 * timestamp keeps its own bucket while the window holds at most EXACT_SAMPLES of them (a 1 h window with a
 * report every 3.5 s, a 24 h window with one a minute). Beyond that, memory stays bounded: samples closer
 * together than windowMs / MAX_BUCKETS then share a bucket (a 24 h window at most ~512 buckets however often the
 * gauge reports), and the sum is off by at most one bucket's worth at the old edge.
 */
export type Agg = 'sum' | 'mean' | 'max' | 'min' | 'rate' | 'degreeHours';

/** A sample counts for degree-hours until the next one, but no longer than this (a silent sensor accrues nothing). */
export const DEGREE_HOURS_MAX_HOLD_MS = 3_600_000;

export const EXACT_SAMPLES = 1024;
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
  return { windowMs, resolutionMs: 1, buckets: [], sum: 0, count: 0 };
}

/** Too many timestamps to keep apart: from now on samples share buckets of windowMs / MAX_BUCKETS. */
function coarsen(w: WindowState): void {
  w.resolutionMs = Math.max(1, Math.floor(w.windowMs / MAX_BUCKETS));
  const merged: Bucket[] = [];
  for (const k of w.buckets) {
    const start = k.firstTs - (k.firstTs % w.resolutionMs);
    const last = merged[merged.length - 1];
    if (!last || last.start !== start) {
      merged.push({ ...k, start });
      continue;
    }
    last.lastTs = k.lastTs;
    last.lastValue = k.lastValue;
    last.sum += k.sum;
    last.count += k.count;
    last.min = Math.min(last.min, k.min);
    last.max = Math.max(last.max, k.max);
  }
  w.buckets = merged;
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
    if (ts < k.firstTs) {
      k.firstTs = ts;
      k.firstValue = value;
    }
    if (ts >= k.lastTs) {
      k.lastTs = ts;
      k.lastValue = value;
    }
    k.sum += value;
    k.count++;
    if (value < k.min) k.min = value;
    if (value > k.max) k.max = value;
  } else {
    b.splice(i + 1, 0, { start, firstTs: ts, firstValue: value, lastTs: ts, lastValue: value, sum: value, count: 1, min: value, max: value });
  }
  w.sum += value;
  w.count++;
  if (w.resolutionMs === 1 && w.buckets.length > EXACT_SAMPLES && (evict(w, now), w.buckets.length > EXACT_SAMPLES)) coarsen(w);
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
export function aggregate(w: WindowState, agg: Agg, now: number, base = 0): number | undefined {
  evict(w, now);
  const b = w.buckets;
  // Sums of 0.2 mm tips drift in the last bits (49.99999999999995): rounded to a millionth, what a person reads.
  if (agg === 'sum') return Math.round(w.sum * 1e6) / 1e6;
  if (agg === 'degreeHours') return degreeHours(w, base, now);
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

/**
 * Heat load as degree-hours: the area of the value above `base` over the window (THI-hours above the comfort
 * limit, the cumulative "THI-day" of Front. Anim. Sci. 3:946592, 2022, doi:10.3389/fanim.2022.946592).
 * Each sample (a bucket's mean) holds until the next one, at most DEGREE_HOURS_MAX_HOLD_MS. An empty window is 0.
 */
function degreeHours(w: WindowState, base: number, now: number): number {
  const b = w.buckets;
  let total = 0;
  for (let i = 0; i < b.length; i++) {
    const until = i + 1 < b.length ? b[i + 1].firstTs : now;
    const heldMs = Math.min(Math.max(0, until - b[i].firstTs), DEGREE_HOURS_MAX_HOLD_MS);
    total += Math.max(0, b[i].sum / b[i].count - base) * (heldMs / 3_600_000);
  }
  return Math.round(total * 100) / 100;
}
