import type { Reading } from '../core/domain.js';
import { sheepThi } from '../core/metrics-catalog.js';
import { dewPointC, wetBulbC } from '../core/psychrometrics.js';

/**
 * Adds derived metrics to a reading so rules can use them like measured ones, from temperature and humidity in
 * the same reading: `thi` (sheep temperature-humidity index, SPEC "Derived metric"), `dew_point` (Magnus) and
 * `wet_bulb` (Stull 2011), all in core/. A reading that already carries thi (computed upstream) is left as it is.
 */
export const DERIVED_FROM: Readonly<Record<string, readonly string[]>> = {
  thi: ['temperature', 'humidity'],
  dew_point: ['temperature', 'humidity'],
  wet_bulb: ['temperature', 'humidity'],
};

const round2 = (v: number) => Math.round(v * 100) / 100;

export function withDerivedMetrics(reading: Reading): Reading {
  const { temperature, humidity } = reading.metrics;
  if (temperature === undefined || humidity === undefined || reading.metrics.thi !== undefined) return reading;
  // Copied field by field, not with spreads: this runs for every shed reading, and object spread was the
  // rules engine's largest cost at full load (issue 18).
  const metrics: Record<string, number> = {};
  for (const name in reading.metrics) metrics[name] = reading.metrics[name];
  metrics.thi = round2(sheepThi(temperature, humidity));
  metrics.dew_point = round2(dewPointC(temperature, humidity));
  const wet = wetBulbC(temperature, humidity);
  if (wet !== undefined) metrics.wet_bulb = round2(wet);
  return { site: reading.site, zone: reading.zone, kind: reading.kind, device: reading.device, ts: reading.ts, metrics };
}
