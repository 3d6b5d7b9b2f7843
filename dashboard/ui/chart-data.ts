import { isIncrement } from '../../core/metrics-catalog.js';
import { scopeCoversZone } from '../../rules/scope.js';
import type { RuleT, ThresholdT } from '../../rules/schema.js';
import { zoneValues } from '../../rules/zone-values.js';
import { metricConditions } from '../site-view.js';

/**
 * What a history chart draws, from the buckets the store aggregated (pure, tested without a browser):
 * - a level (temperature, fill): the mean with a min–max band;
 * - an increment (rain_mm, metric catalogue `increment`): the amount per bucket as bars (the bucket's `sum`, not
 *   the mean of per-report increments) and the running total since the start of the range;
 * - a stretch without buckets (a silent sensor) is a gap, not a straight line across it;
 * - the rules' thresholds for this metric, where they compare with what is drawn.
 */
export interface Bucket {
  ts: number;
  mean: number;
  min: number;
  max: number;
  count: number;
  sum?: number;
}

export type ChartSeries =
  | { kind: 'level'; x: number[]; mean: (number | null)[]; min: (number | null)[]; max: (number | null)[] }
  | { kind: 'increment'; x: number[]; sum: (number | null)[]; total: (number | null)[] };

/** A bucket further than this many widths from the previous one leaves a gap. */
const GAP_FACTOR = 1.5;

export function chartSeries(metric: string, buckets: readonly Bucket[], everyMs: number): ChartSeries {
  const x: number[] = [];
  const rows: (Bucket | null)[] = [];
  for (const [i, b] of buckets.entries()) {
    const prev = buckets[i - 1];
    // One empty point in the gap: uPlot draws no line through a null.
    if (prev && b.ts - prev.ts > everyMs * GAP_FACTOR) {
      x.push(prev.ts + everyMs);
      rows.push(null);
    }
    x.push(b.ts);
    rows.push(b);
  }
  if (isIncrement(metric)) {
    let running = 0;
    const sum = rows.map((b) => (b ? (b.sum ?? b.mean * b.count) : null));
    const total = sum.map((s) => (s === null ? null : (running += s)));
    return { kind: 'increment', x, sum, total };
  }
  return { kind: 'level', x, mean: rows.map((b) => b?.mean ?? null), min: rows.map((b) => b?.min ?? null), max: rows.map((b) => b?.max ?? null) };
}

export interface Threshold {
  value: number;
  rule: string;
  /** The grade's name (yellow, orange, red, extreme…) or "above"/"below" for a plain threshold. */
  level: string;
  severity?: string;
}

export interface ChartTarget {
  site: string;
  zone: string;
  kind: 'shed' | 'field' | 'drain';
  device: string;
  /** The zone's attributes: thresholds may be zone values (`atLeast: { zone: designDepthM }`). */
  attributes?: Record<string, string | number | boolean>;
}

type Thresholds = { above?: ThresholdT; below?: ThresholdT; atLeast?: ThresholdT; atMost?: ThresholdT };

/** The threshold that fires (above / atLeast rising, below / atMost falling), a zone value resolved for the zone. */
function enter(t: Thresholds, values: Record<string, number>): { value: number; up: boolean } | undefined {
  const up = t.above ?? t.atLeast;
  const raw = up ?? t.below ?? t.atMost;
  if (raw === undefined) return undefined;
  const value = typeof raw === 'number' ? raw : values[raw.zone] === undefined ? undefined : values[raw.zone] + (raw.plus ?? 0);
  return value === undefined ? undefined : { value, up: up !== undefined };
}

/**
 * The thresholds of enabled rules that watch this metric where the device is. A windowed rule (rain over 1 h) is
 * drawn only on buckets as wide as its window (each bar is then the very sum the rule compares); a level rule on
 * any chart of a level metric.
 */
export function chartThresholds(rules: readonly RuleT[], target: ChartTarget, metric: string, everyMs: number): Threshold[] {
  const out: Threshold[] = [];
  const values = zoneValues(target.kind, target.attributes);
  for (const rule of rules) {
    if (
      rule.enabled === false ||
      !scopeCoversZone(rule.scope ?? {}, {
        site: target.site,
        zone: target.zone,
        kind: target.kind,
        devices: [{ device: target.device }],
        config: { attributes: target.attributes },
      })
    )
      continue;
    for (const c of metricConditions(rule.when)) {
      // A baseline condition compares with the device's own learned level, not with a line on the chart.
      if (c.metric !== metric || (c.device && c.device !== target.device) || 'baseline' in c) continue;
      if (c.window !== undefined ? !(c.agg === 'sum' && c.window === everyMs) : isIncrement(metric)) continue;
      if (c.levels)
        for (const l of c.levels) {
          const e = enter(l, values);
          if (e) out.push({ value: e.value, rule: rule.id, level: l.name, severity: l.severity });
        }
      else {
        const e = enter(c, values);
        if (e) out.push({ value: e.value, rule: rule.id, level: e.up ? 'above' : 'below' });
      }
    }
  }
  // One line per value: two rules at the same threshold would draw over each other.
  const seen = new Set<number>();
  return out.filter((th) => !seen.has(th.value) && seen.add(th.value));
}

/**
 * Bucket width for an increment's bars: hourly from 6 h to 10 days (the width of the hourly rain rules, whose
 * thresholds are then drawn), finer below, daily above.
 */
export function barWidthMs(rangeMs: number): number {
  const H = 3_600_000;
  if (rangeMs <= 3 * H) return 5 * 60_000;
  if (rangeMs <= 6 * H) return 15 * 60_000;
  if (rangeMs <= 10 * 24 * H) return H;
  return 24 * H;
}
