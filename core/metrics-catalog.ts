import type { ZoneKind } from './domain.js';

/**
 * What one value of a metric means (SPEC "Canonical metrics"): a `level` is the state at its instant (the newest
 * counts: a temperature, a pipe's fill), an `increment` is an amount since the previous report that adds up
 * (rain in mm: window sums, daily totals, the dashboard's live merging).
 */
export type Quantity = 'level' | 'increment';

/** Canonical metrics, units and plausible ranges (SPEC "Canonical metrics"). Outside the range a value is rejected. */
export interface MetricSpec {
  unit: string;
  min: number;
  max: number;
  kinds: readonly ZoneKind[];
  quantity: Quantity;
}

const ALL: readonly ZoneKind[] = ['shed', 'field', 'drain'];

export const METRICS: Readonly<Record<string, MetricSpec>> = {
  temperature: { unit: '°C', min: -50, max: 80, kinds: ALL, quantity: 'level' },
  humidity: { unit: '%RH', min: 0, max: 100, kinds: ['shed', 'field'], quantity: 'level' },
  nh3: { unit: 'ppm', min: 0, max: 500, kinds: ['shed'], quantity: 'level' },
  h2s: { unit: 'ppm', min: 0, max: 200, kinds: ['shed'], quantity: 'level' },
  co2: { unit: 'ppm', min: 0, max: 20000, kinds: ['shed'], quantity: 'level' },
  soil_moisture: { unit: '% vol', min: 0, max: 100, kinds: ['field'], quantity: 'level' },
  soil_temperature: { unit: '°C', min: -30, max: 70, kinds: ['field'], quantity: 'level' },
  light: { unit: 'lux', min: 0, max: 200000, kinds: ['shed', 'field'], quantity: 'level' },
  water_level: { unit: 'm', min: 0, max: 20, kinds: ['drain'], quantity: 'level' },
  fill: { unit: '% of pipe height', min: 0, max: 100, kinds: ['drain'], quantity: 'level' },
  flow: { unit: 'm³/h', min: 0, max: 100000, kinds: ['drain'], quantity: 'level' },
  rain_mm: { unit: 'mm', min: 0, max: 500, kinds: ['drain', 'field'], quantity: 'increment' },
};

export const METRIC_NAMES = Object.keys(METRICS);

/** True for metrics whose values add up (rain_mm); the derived `thi` and anything unknown are levels. */
export function isIncrement(metric: string): boolean {
  return METRICS[metric]?.quantity === 'increment';
}

/**
 * Sheep temperature-humidity index, Marai et al. 2007 (Small Ruminant Research 71:1-12):
 * THI = t − (0.31 − 0.31·RH/100)·(t − 14.4).
 */
export function sheepThi(temperatureC: number, humidityPct: number): number {
  return temperatureC - (0.31 - 0.31 * (humidityPct / 100)) * (temperatureC - 14.4);
}

export type ThiBand = 'none' | 'moderate' | 'severe' | 'extreme';

/** Bands from the same paper: < 22.2 none, 22.2–23.3 moderate, 23.3–25.6 severe, ≥ 25.6 extreme. */
export function thiBand(thi: number): ThiBand {
  if (thi < 22.2) return 'none';
  if (thi < 23.3) return 'moderate';
  if (thi < 25.6) return 'severe';
  return 'extreme';
}
