import { isIncrement } from '../core/metrics-catalog.js';
import { bucketStart, LOCAL_BUCKETS_FROM_MS, offsetSegments } from '../core/site-time.js';
import { TELEMETRY } from './influx-points.js';
import { ident, rows, str, where, type InfluxResult } from './influxql.js';
import type { HistoryBucket, HistoryQuery, HistorySeries } from './store.js';

/**
 * History over InfluxQL, with buckets of one hour or longer in the site's zone (SPEC "Identity").
 *
 * `GROUP BY time(every) tz(zone)` cuts the right buckets away from DST changes, but InfluxDB 1.6 gets the buckets
 * next to a change wrong: with Europe/Berlin, 2 h buckets across the autumn change come back as one 3-hour
 * bucket whose max is 0 while its mean is 1.5 (found by test/store/influx-timezone.test.ts against Debian's
 * influxd 1.6.7). So buckets within two widths of a change are rebuilt exactly from UTC-aligned fine buckets
 * (no tz(); count, sum, min and max combine exactly) grouped by core/site-time.ts bucketStart, the rule the
 * embedded store uses too. Zones without DST (Asia/Shanghai) never need that second query.
 */
export type Select = (q: string) => Promise<InfluxResult[]>;

interface Acc {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export async function influxHistory(select: Select, q: HistoryQuery): Promise<HistorySeries[]> {
  const every = Math.trunc(q.everyMs);
  const zone = q.timeZone ?? 'UTC';
  const local = zone !== 'UTC' && every >= LOCAL_BUCKETS_FROM_MS;
  const main = await grouped(select, q, { from: q.from, to: q.to }, every, local ? zone : undefined);
  if (!local) return finish(main, q);
  const segments = offsetSegments(zone, q.from - 2 * every, q.to + 2 * every);
  if (segments.length === 1) return finish(main, q);

  // Regions around each change, from a bucket start two widths before it to one two widths after.
  const regions: [number, number][] = [];
  for (const s of segments.slice(1)) {
    const a = bucketStart(zone, s.from - 2 * every, every);
    const b = bucketStart(zone, s.from + 2 * every, every);
    const last = regions[regions.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else regions.push([a, b]);
  }
  const inRegion = (ts: number) => regions.some(([a, b]) => ts >= a && ts < b);
  const fine = fineWidth(every, segments);
  for (const buckets of main.values()) for (const ts of [...buckets.keys()]) if (inRegion(ts)) buckets.delete(ts);
  for (const [a, b] of regions) {
    const from = Math.max(q.from, a);
    const to = Math.min(q.to, b);
    if (from >= to) continue;
    const parts = await grouped(select, q, { from, to }, fine, undefined);
    for (const [device, buckets] of parts) {
      let target = main.get(device);
      if (!target) main.set(device, (target = new Map<number, Acc>()));
      for (const [ts, acc] of buckets) merge(target, bucketStart(zone, ts, every), acc);
    }
  }
  return finish(main, q);
}

/** The widest UTC-aligned step that divides the width, every offset and every change: 1 h for Berlin, 15 min for Nepal. */
function fineWidth(every: number, segments: { from: number; offsetMs: number }[]): number {
  const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));
  let g = gcd(every, LOCAL_BUCKETS_FROM_MS);
  for (const s of segments) g = gcd(g, s.offsetMs);
  for (const s of segments.slice(1)) g = gcd(g, s.from % LOCAL_BUCKETS_FROM_MS);
  return Math.max(g, 1000);
}

function merge(target: Map<number, Acc>, ts: number, acc: Acc): void {
  const have = target.get(ts);
  if (!have) return void target.set(ts, { ...acc });
  have.count += acc.count;
  have.sum += acc.sum;
  have.min = Math.min(have.min, acc.min);
  have.max = Math.max(have.max, acc.max);
}

async function grouped(
  select: Select,
  q: HistoryQuery,
  range: { from: number; to: number },
  every: number,
  tz: string | undefined,
): Promise<Map<string, Map<number, Acc>>> {
  const f = ident(q.metric);
  // fill(none): InfluxDB would otherwise report empty buckets (count 0) where the device was silent.
  const [result] = await select(
    `SELECT count(${f}) AS "count", sum(${f}) AS "sum", min(${f}) AS "min", max(${f}) AS "max" FROM ${ident(TELEMETRY)}` +
      `${where({ site: q.site, zone: q.zone, device: q.device }, range)} GROUP BY time(${every}ms), "device" fill(none)${tz ? ` tz(${str(tz)})` : ''}`,
  );
  const out = new Map<string, Map<number, Acc>>();
  for (const s of result?.series ?? []) {
    const buckets = new Map<number, Acc>();
    for (const r of rows(s)) {
      if (!(Number(r.count) > 0)) continue;
      buckets.set(Number(r.time), { count: Number(r.count), sum: Number(r.sum), min: Number(r.min), max: Number(r.max) });
    }
    out.set(s.tags?.device ?? '', buckets);
  }
  return out;
}

function finish(devices: Map<string, Map<number, Acc>>, q: HistoryQuery): HistorySeries[] {
  const increment = isIncrement(q.metric);
  const series: HistorySeries[] = [];
  for (const [device, buckets] of devices) {
    const list: HistoryBucket[] = [...buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([ts, acc]) => ({ ts, mean: acc.sum / acc.count, min: acc.min, max: acc.max, count: acc.count, ...(increment ? { sum: acc.sum } : {}) }));
    if (list.length > 0) series.push({ device, buckets: list });
  }
  return series.sort((a, b) => a.device.localeCompare(b.device));
}
