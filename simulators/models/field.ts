import type { Rng } from './rng.js';
import type { Outdoor } from './weather.js';
import { saturationVapourHpa } from './weather.js';
import { clamp, relax, round } from './units.js';

/**
 * A crop field: a root-zone water bucket as in FAO Irrigation and Drainage Paper 56 (Allen et al. 1998):
 * θ changes with rain + irrigation − crop evapotranspiration − drainage above field capacity.
 * Soil temperature follows the air and the sun with a lag; the air over the field is the outdoor air.
 */
export interface FieldParams {
  /** Depth of soil the moisture probe represents, mm (200 mm of soil holds 2 mm of water per % vol). */
  rootZoneMm: number;
  fieldCapacityPct: number;
  wiltingPointPct: number;
  saturationPct: number;
  /** Water the valve delivers when fully open, mm/h over the field (drip or sprinkler). */
  irrigationMmPerHour: number;
  /** FAO-56 crop coefficient Kc (mid-season rice/vegetables ≈ 1.05–1.2). */
  cropCoefficient: number;
}

export interface FieldState {
  params: FieldParams;
  soilMoisturePct: number;
  soilTemperatureC: number;
  airTemperatureC: number;
  humidityPct: number;
  lightLux: number;
  /** Totals since the start, for tests and summaries. */
  etMm: number;
  irrigatedMm: number;
}

export interface FieldInputs {
  outdoor: Outdoor;
  /** Valve opening (0 = shut), already gated by the pump if the zone has one. */
  irrigationPct: number;
}

// Silt loam, FAO-56 Table 19: θFC 0.22–0.36, θWP 0.09–0.21.
export function defaultFieldParams(overrides: Partial<FieldParams> = {}): FieldParams {
  return { rootZoneMm: 200, fieldCapacityPct: 32, wiltingPointPct: 14, saturationPct: 46, irrigationMmPerHour: 8, cropCoefficient: 1.05, ...overrides };
}

export function initialState(params: FieldParams, rng: Rng, start: { soilMoisturePct?: number; soilTemperatureC?: number } = {}): FieldState {
  const soil = (start.soilMoisturePct ?? 26) + rng.gaussian(0, 0.8);
  return {
    params,
    soilMoisturePct: clamp(soil, params.wiltingPointPct - 4, params.saturationPct),
    soilTemperatureC: (start.soilTemperatureC ?? 22) + rng.gaussian(0, 0.3),
    airTemperatureC: 22,
    humidityPct: 70,
    lightLux: 0,
    etMm: 0,
    irrigatedMm: 0,
  };
}

const PSYCHROMETRIC_KPA_PER_C = 0.066; // FAO-56 eq. 8 near sea level
const LATENT_MJ_PER_KG = 2.45;
const PRIESTLEY_TAYLOR_ALPHA = 1.26; // Priestley & Taylor (1972, Mon. Weather Rev. 100:81)
const NET_RADIATION_SHARE = 0.6; // daytime Rn ≈ 0.6·Rs over a green crop
const DEPLETION_FRACTION = 0.5; // FAO-56 Table 22: p ≈ 0.5 before water stress cuts ET

/** Reference evapotranspiration, mm/h (Priestley–Taylor with FAO-56 eq. 13 for the slope Δ). */
export function referenceEtMmPerHour(o: Outdoor): number {
  const esKpa = saturationVapourHpa(o.temperatureC) / 10;
  const delta = (4098 * esKpa) / Math.pow(o.temperatureC + 237.3, 2);
  const rnMjPerHour = (NET_RADIATION_SHARE * o.solarWm2 * 3600) / 1e6;
  const dryAir = 1 + 0.01 * Math.max(0, 70 - o.humidityPct); // a little extra demand in dry air
  return Math.max(0, (PRIESTLEY_TAYLOR_ALPHA * delta * rnMjPerHour * dryAir) / ((delta + PSYCHROMETRIC_KPA_PER_C) * LATENT_MJ_PER_KG));
}

/** FAO-56 eq. 84 water-stress coefficient Ks from the current moisture. */
function stressCoefficient(p: FieldParams, theta: number): number {
  const readily = (1 - DEPLETION_FRACTION) * (p.fieldCapacityPct - p.wiltingPointPct);
  return clamp((theta - p.wiltingPointPct) / readily, 0, 1);
}

export function step(s: FieldState, inputs: FieldInputs, dtSec: number): FieldState {
  const p = s.params;
  const o = inputs.outdoor;
  const hours = dtSec / 3600;
  const rainMm = o.rainMmPerHour * hours;
  const irrigationMm = (clamp(inputs.irrigationPct, 0, 100) / 100) * p.irrigationMmPerHour * hours;
  const etMm = p.cropCoefficient * stressCoefficient(p, s.soilMoisturePct) * referenceEtMmPerHour(o) * hours;
  const mmPerPct = p.rootZoneMm / 100;
  let theta = s.soilMoisturePct + (rainMm + irrigationMm - etMm) / mmPerPct;
  // Above field capacity the excess drains to depth within hours (free drainage, time constant ~6 h).
  if (theta > p.fieldCapacityPct) theta = relax(theta, p.fieldCapacityPct, 1 / (6 * 3600), dtSec);
  theta = clamp(theta, 2, p.saturationPct); // anything beyond saturation runs off

  // Soil at ~10 cm: lags the air by hours, warmed by sun on bare patches, cooled by evaporation when wet.
  const wetness = theta / p.saturationPct;
  const soilTarget = o.temperatureC + 0.006 * o.solarWm2 - 1.5 * wetness;
  const soilTemperatureC = relax(s.soilTemperatureC, soilTarget, 1 / (3 * 3600), dtSec);
  const irrigating = inputs.irrigationPct > 0;
  return {
    params: p,
    soilMoisturePct: theta,
    soilTemperatureC,
    airTemperatureC: o.temperatureC - (irrigating ? 0.4 : 0),
    humidityPct: clamp(o.humidityPct + (irrigating ? 4 : 0) + 3 * wetness, 0, 100),
    lightLux: o.solarWm2 * 110, // ≈ 110 lux per W/m² of daylight
    etMm: s.etMm + etMm,
    irrigatedMm: s.irrigatedMm + irrigationMm,
  };
}

export const FIELD_METRICS = ['temperature', 'humidity', 'soil_moisture', 'soil_temperature', 'light'] as const;

/** Sensor readings with the noise of a capacitive soil probe (±2 % vol) and a consumer air sensor. */
export function read(s: FieldState, rng: Rng): Record<string, number> {
  return {
    temperature: round(s.airTemperatureC + rng.gaussian(0, 0.2), 1),
    humidity: round(clamp(s.humidityPct + rng.gaussian(0, 1), 0, 100), 1),
    soil_moisture: round(clamp(s.soilMoisturePct + rng.gaussian(0, 0.3), 0, 100), 1),
    soil_temperature: round(s.soilTemperatureC + rng.gaussian(0, 0.1), 1),
    light: Math.round(clamp(s.lightLux * (1 + rng.gaussian(0, 0.03)), 0, 200000)),
  };
}
