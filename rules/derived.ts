import type { Reading } from '../core/domain.js';
import { sheepThi } from '../core/metrics-catalog.js';

/**
 * Adds derived metrics to a reading so rules can use them like measured ones. `thi` (sheep
 * temperature-humidity index, SPEC "Derived metric") needs temperature and humidity in the same reading;
 * a reading that already carries thi (computed upstream) is left as it is.
 */
export function withDerivedMetrics(reading: Reading): Reading {
  const { temperature, humidity } = reading.metrics;
  if (temperature === undefined || humidity === undefined || reading.metrics.thi !== undefined) return reading;
  return { ...reading, metrics: { ...reading.metrics, thi: Math.round(sheepThi(temperature, humidity) * 100) / 100 } };
}
