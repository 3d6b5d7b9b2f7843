/**
 * Numbers the benchmark reports: latency histograms that merge across processes, and the median/min/max
 * of a figure over repeated runs. Pure; no I/O.
 */

/**
 * Latencies in ms: 0.01 ms buckets below 1 ms, then buckets 1 % wide (log scale) up to ~10 minutes, so a
 * percentile is within 1 % of the true value while a histogram stays ~1,500 counters however many samples
 * it holds (a 30-minute soak records hundreds of millions).
 */
const LINEAR = 100; // buckets below 1 ms
const GROWTH = Math.log(1.01);
const BUCKETS = LINEAR + Math.ceil(Math.log(600_000) / GROWTH) + 1;

export interface Histogram {
  counts: number[];
  total: number;
  max: number;
}

export function newHistogram(): Histogram {
  return { counts: new Array<number>(BUCKETS).fill(0), total: 0, max: 0 };
}

function bucketOf(ms: number): number {
  if (!(ms > 0)) return 0;
  if (ms < 1) return Math.floor(ms * LINEAR);
  return Math.min(BUCKETS - 1, LINEAR + Math.floor(Math.log(ms) / GROWTH));
}

/** A representative value of a bucket (its middle). */
function valueOf(bucket: number): number {
  if (bucket < LINEAR) return (bucket + 0.5) / LINEAR;
  const low = Math.exp((bucket - LINEAR) * GROWTH);
  return low * (1 + (Math.exp(GROWTH) - 1) / 2);
}

export function record(h: Histogram, ms: number): void {
  h.counts[bucketOf(ms)]++;
  h.total++;
  if (ms > h.max) h.max = ms;
}

export function merge(into: Histogram, from: Histogram): Histogram {
  for (let i = 0; i < BUCKETS; i++) into.counts[i] += from.counts[i] ?? 0;
  into.total += from.total;
  into.max = Math.max(into.max, from.max);
  return into;
}

/** Nearest-rank percentile, p in 0..100; undefined for an empty histogram. */
export function percentile(h: Histogram, p: number): number | undefined {
  if (h.total === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * h.total));
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h.counts[i];
    if (seen >= rank) return Math.min(valueOf(i), h.max);
  }
  return h.max;
}

/** Sparse form for IPC: [bucket, count] pairs. */
export function pack(h: Histogram): { pairs: [number, number][]; total: number; max: number } {
  const pairs: [number, number][] = [];
  h.counts.forEach((c, i) => c > 0 && pairs.push([i, c]));
  return { pairs, total: h.total, max: h.max };
}

export function unpack(p: { pairs: [number, number][]; total: number; max: number }): Histogram {
  const h = newHistogram();
  for (const [i, c] of p.pairs) h.counts[i] = c;
  h.total = p.total;
  h.max = p.max;
  return h;
}

/** A figure over repeated runs: the median is reported, min and max next to it. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(values: readonly (number | undefined)[]): Summary | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], runs: v.length };
}

/**
 * Rate of a growing count over [from, to], from a series of (time, count) samples: the count at each end is
 * interpolated between the samples around it (or taken from the nearest sample inside the series), so a
 * window a little shorter than the sampling interval still gets a figure.
 */
export function rateBetween(samples: readonly { at: number; count: number }[], from: number, to: number): number | undefined {
  if (samples.length < 2) return undefined;
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  const first = sorted[0].at;
  const last = sorted[sorted.length - 1].at;
  const a = Math.max(from, first);
  const b = Math.min(to, last);
  if (b - a < 250) return undefined;
  const countAt = (t: number) => {
    let i = 0;
    while (i < sorted.length - 1 && sorted[i + 1].at < t) i++;
    const p = sorted[i];
    const q = sorted[Math.min(i + 1, sorted.length - 1)];
    if (q.at === p.at) return p.count;
    return p.count + ((q.count - p.count) * (t - p.at)) / (q.at - p.at);
  };
  return ((countAt(b) - countAt(a)) / (b - a)) * 1000;
}

/**
 * Throughput of a fixed amount of work: `total` items from `startedAt` until the count reached `total`, the moment
 * interpolated between the last sample below it and the first at or above it. undefined if it never got there.
 */
export function completionRate(samples: readonly { at: number; count: number }[], total: number, startedAt: number): number | undefined {
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  const i = sorted.findIndex((s) => s.count >= total);
  if (i < 0 || total <= 0) return undefined;
  const q = sorted[i];
  const p = i > 0 ? sorted[i - 1] : { at: startedAt, count: 0 };
  const doneAt = q.count === p.count ? q.at : p.at + ((total - p.count) * (q.at - p.at)) / (q.count - p.count);
  const ms = doneAt - startedAt;
  return ms > 0 ? (total / ms) * 1000 : undefined;
}

/** Least-squares slope of y over x (per unit of x). */
export function slope(points: readonly { x: number; y: number }[]): number | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den > 0 ? num / den : undefined;
}
