import { localClock, MINUTE_MS } from '../core/site-time.js';
import type { BaselineSpec } from './compile.js';

/**
 * A device's learned dry-weather level by local hour of day, the way drainage loggers learn each pipe's own
 * pattern (ADS IntelliScan; the 淤堵 detection of Chinese level loggers) and flag a departure from it: sewage flow
 * has its morning and evening peaks, a large sewer runs fuller than a small one, and neither is a fault.
 *
 * For every local day it keeps the sum and count of the dry-weather samples of each hour. The reference for an
 * hour is the median of the past days' means of that hour (today excluded, so a blockage that starts today does
 * not teach itself as normal; a median, so one odd day does not move it). A sample is dry weather when none of
 * the rule's gauges has reported rain for `dryAfterMs`. Pure, with time given.
 */
export interface BaselineState {
  /** Local day (the instant of its local midnight) -> sums of hours 0-23 then counts of hours 0-23. */
  days: Map<number, Float64Array>;
  /** Newest sample of a gauge with rain in it. */
  lastRainTs?: number;
  /** Since when anything was seen at all: with no rain seen, it has been dry at least since then. */
  firstTs?: number;
}

export function createBaseline(): BaselineState {
  return { days: new Map(), lastRainTs: undefined, firstTs: undefined };
}

/** Local day and hour of an instant in the site's zone. */
export function localDayHour(timeZone: string, ts: number): { day: number; hour: number } {
  const { minuteOfDay } = localClock(timeZone, ts);
  return { day: ts - (((ts % MINUTE_MS) + MINUTE_MS) % MINUTE_MS) - minuteOfDay * MINUTE_MS, hour: Math.floor(minuteOfDay / 60) };
}

export function seen(b: BaselineState, ts: number): void {
  if (b.firstTs === undefined || ts < b.firstTs) b.firstTs = ts;
}

export function noteRain(b: BaselineState, ts: number, mm: number): void {
  seen(b, ts);
  if (mm > 0 && (b.lastRainTs === undefined || ts > b.lastRainTs)) b.lastRainTs = ts;
}

/** Dry weather at `ts`: no rain reported for dryAfterMs (and the gauges were watched that long). */
export function isDry(b: BaselineState, spec: Pick<BaselineSpec, 'dryAfterMs'>, ts: number): boolean {
  const since = Math.max(b.lastRainTs ?? -Infinity, b.firstTs ?? ts);
  return ts - since >= spec.dryAfterMs;
}

/** Adds a dry-weather sample and forgets days beyond the learning period. */
export function learn(b: BaselineState, spec: Pick<BaselineSpec, 'days'>, at: { day: number; hour: number }, value: number): void {
  let d = b.days.get(at.day);
  if (!d) {
    b.days.set(at.day, (d = new Float64Array(48)));
    if (b.days.size > spec.days + 1) {
      const oldest = Math.min(...b.days.keys());
      b.days.delete(oldest);
    }
  }
  d[at.hour] += value;
  d[24 + at.hour]++;
}

/** The learned level for this hour: the median of past days' means, or undefined with fewer than minDays of them. */
export function reference(b: BaselineState, spec: Pick<BaselineSpec, 'days' | 'minDays'>, at: { day: number; hour: number }): number | undefined {
  const means: number[] = [];
  for (const [day, d] of b.days) if (day < at.day && d[24 + at.hour] > 0) means.push(d[at.hour] / d[24 + at.hour]);
  if (means.length < spec.minDays) return undefined;
  means.sort((x, y) => x - y);
  const recent = means.length > spec.days ? means.slice(means.length - spec.days) : means;
  const mid = recent.length >> 1;
  return recent.length % 2 ? recent[mid] : (recent[mid - 1] + recent[mid]) / 2;
}
