import type { Rng } from './rng.js';
import type { Outdoor } from './weather.js';
import { relativeHumidityPct, saturationVapourHpa } from './weather.js';
import { AIR_HEAT_CAPACITY, LATENT_HEAT_J_PER_G, clamp, mgPerM3PerPpm, relax, round, vapourDensityGm3, vapourPressureHpa } from './units.js';

/**
 * A sheep shed as one well-mixed air volume (the usual box model of livestock-house climate):
 * heat, water vapour, NH3, H2S and CO2 each balance a source against air exchange with the outside,
 * dC/dt = G/V − (Q/V)(C − C_out) − k·C, integrated exactly over each step (see units.relax).
 */
export interface ShedParams {
  headCount: number;
  floorAreaM2: number;
  heightM: number;
  /** Air moved by one fan at 100 % speed, m³/h. */
  fanFlowM3h: number;
  /** Side openings behind the roller shutters, m². */
  openingAreaM2: number;
  /** Water sprayed by the deodorising system while on, L/h. */
  sprayWaterLph: number;
  /** Scales NH3 / H2S generation (dirty litter, wet bedding, high-protein feed). 1 = typical. */
  nh3Factor: number;
  h2sFactor: number;
  /** Total heat production of one animal, W. */
  heatPerAnimalW: number;
}

export interface ShedState {
  params: ShedParams;
  temperatureC: number;
  vapourGm3: number;
  nh3Ppm: number;
  h2sPpm: number;
  co2Ppm: number;
  daysSinceCleaning: number;
  lightLux: number;
}

export interface ShedInputs {
  outdoor: Outdoor;
  /** Effective speed of each fan, 0 when off. */
  fanSpeedsPct: number[];
  sprayOn: boolean;
  shutterOpenPct: number;
}

export interface ShedStart {
  temperatureC?: number;
  humidityPct?: number;
  nh3Ppm?: number;
  h2sPpm?: number;
  co2Ppm?: number;
  daysSinceCleaning?: number;
}

// Hu sheep (湖羊) ewes of ~50–60 kg: about 2 W/kg total heat at maintenance, the order given by
// CIGR (2002) "Heat and moisture production at animal and house levels" (Pedersen & Sällvik).
const DEFAULT_HEAT_PER_ANIMAL_W = 120;
// A few g NH3 per housed sheep per day; the order of the housing emission factors reviewed by
// Sommer, Webb & Hutchings (2019, Front. Sustain. Food Syst. 3:101). Litter age multiplies it below.
const NH3_G_PER_ANIMAL_DAY = 2.5;
const H2S_G_PER_ANIMAL_DAY = 0.15;
// CO2 from respiration: 0.185 m³/h per heat-producing unit (1 kW total heat),
// Pedersen et al. (2008, CIGR Ejournal X, "Carbon dioxide production in animal houses").
const CO2_M3H_PER_KW = 0.185;
const OUTDOOR_CO2_PPM = 420;
// Leakage of a closed shed, air changes per hour (typical 0.5–2 for old naturally ventilated barns), more in wind.
const INFILTRATION_ACH = 1;
const INFILTRATION_ACH_PER_MS = 0.1;
// Condensation on cold surfaces and absorption by litter keep a closed shed just short of saturation.
const MAX_RH_SHARE = 0.97;
// Wind-driven flow through openings Q = Cv·A·v; Cv 0.25–0.35 for diagonal wind (ASHRAE Fundamentals, ch. 16).
const OPENING_CV = 0.3;
// Stack effect keeps some exchange in still air.
const MIN_EFFECTIVE_WIND_MS = 0.7;
// Insulated roof (U ≈ 0.5 W/m²K): sol-air gain ≈ U·α·S/h_o ≈ 0.5·0.6·S/17 per m² of roof.
const ROOF_SOLAR_FRACTION = 0.018;
// Sun through open shutters on the side walls (vertical openings see about a quarter of the horizontal flux).
const OPENING_SOLAR_FRACTION = 0.25;
const ENVELOPE_U_W_M2K = 1.5;
// Structure, litter and animals buffer the air: effective heat capacity ≈ 10 × the air's.
const THERMAL_MASS_FACTOR = 10;
// Assumed first-order removal by the deodorising spray: NH3 is very water-soluble, H2S less so.
const SPRAY_NH3_PER_HOUR = 2.5;
const SPRAY_H2S_PER_HOUR = 1.5;
// Daylight luminous efficacy: roughly 110 lux per W/m² of global irradiance.
const LUX_PER_WM2 = 110;

export function defaultShedParams(headCount = 200, overrides: Partial<ShedParams> = {}): ShedParams {
  const floorAreaM2 = overrides.floorAreaM2 ?? Math.max(50, headCount * 1.5); // 1–1.5 m² per ewe on litter
  return {
    headCount,
    floorAreaM2,
    heightM: 3.5,
    fanFlowM3h: Math.max(8000, headCount * 80),
    openingAreaM2: floorAreaM2 * 0.03,
    sprayWaterLph: 12,
    nh3Factor: 1,
    h2sFactor: 1,
    heatPerAnimalW: DEFAULT_HEAT_PER_ANIMAL_W,
    ...overrides,
  };
}

function outdoorVapourGm3(o: Outdoor): number {
  return vapourDensityGm3((saturationVapourHpa(o.temperatureC) * o.humidityPct) / 100, o.temperatureC);
}

export function initialState(params: ShedParams, rng: Rng, start: ShedStart = {}): ShedState {
  const temperatureC = (start.temperatureC ?? 24) + rng.gaussian(0, 0.3);
  const humidityPct = clamp((start.humidityPct ?? 70) + rng.gaussian(0, 2), 5, 98);
  return {
    params,
    temperatureC,
    vapourGm3: vapourDensityGm3((saturationVapourHpa(temperatureC) * humidityPct) / 100, temperatureC),
    nh3Ppm: Math.max(0, (start.nh3Ppm ?? 5) + rng.gaussian(0, 0.3)),
    h2sPpm: Math.max(0, (start.h2sPpm ?? 0.2) + rng.gaussian(0, 0.02)),
    co2Ppm: Math.max(OUTDOOR_CO2_PPM, (start.co2Ppm ?? 1100) + rng.gaussian(0, 30)),
    daysSinceCleaning: start.daysSinceCleaning ?? 7,
    lightLux: 0,
  };
}

/** Air exchange with the outside, m³/h: leakage + wind through the shutters + fans. */
export function airExchangeM3h(p: ShedParams, inputs: ShedInputs): number {
  const volume = p.floorAreaM2 * p.heightM;
  const open = clamp(inputs.shutterOpenPct, 0, 100) / 100;
  const wind = Math.max(MIN_EFFECTIVE_WIND_MS, inputs.outdoor.windMs);
  const natural = OPENING_CV * p.openingAreaM2 * open * wind * 3600;
  const fans = inputs.fanSpeedsPct.reduce((sum, pct) => sum + (clamp(pct, 0, 100) / 100) * p.fanFlowM3h, 0);
  return (INFILTRATION_ACH + INFILTRATION_ACH_PER_MS * inputs.outdoor.windMs) * volume + natural + fans;
}

/** Litter gives off more as it ages (urine and dung accumulate) until it is cleaned out. */
function litterFactor(days: number, perDays: number, cap: number): number {
  return Math.min(cap, 1 + days / perDays);
}

export function step(s: ShedState, inputs: ShedInputs, dtSec: number): ShedState {
  const p = s.params;
  const o = inputs.outdoor;
  const volume = p.floorAreaM2 * p.heightM;
  const qM3h = airExchangeM3h(p, inputs);
  const exchangePerSec = qM3h / 3600 / volume;
  const open = clamp(inputs.shutterOpenPct, 0, 100) / 100;

  // Heat: sensible share of animal heat falls as the shed warms (CIGR 2002: Φs = Φtot·(0.8 − 1.85e-7·(t+10)^4)).
  const sensibleShare = clamp(0.8 - 1.85e-7 * Math.pow(s.temperatureC + 10, 4), 0.1, 0.8);
  const animalsW = p.headCount * p.heatPerAnimalW;
  const solarW = o.solarWm2 * (p.floorAreaM2 * 1.1 * ROOF_SOLAR_FRACTION + p.openingAreaM2 * open * OPENING_SOLAR_FRACTION);
  const sprayGs = inputs.sprayOn ? (p.sprayWaterLph * 1000) / 3600 : 0;
  const gainsW = animalsW * sensibleShare + solarW - sprayGs * LATENT_HEAT_J_PER_G;
  const envelopeUA = ENVELOPE_U_W_M2K * p.floorAreaM2 * 2.5;
  const ventUA = AIR_HEAT_CAPACITY * (qM3h / 3600);
  const lossWPerK = envelopeUA + ventUA;
  const heatCapacity = AIR_HEAT_CAPACITY * volume * THERMAL_MASS_FACTOR;
  const temperatureC = relax(s.temperatureC, o.temperatureC + gainsW / lossWPerK, lossWPerK / heatCapacity, dtSec);

  // Water vapour: latent animal heat as breath moisture, spray water, exchange with the outdoor air.
  const animalsGs = (animalsW * (1 - sensibleShare)) / LATENT_HEAT_J_PER_G;
  const vapourSteady = outdoorVapourGm3(o) + (animalsGs + sprayGs) / (qM3h / 3600);
  const saturation = vapourDensityGm3(saturationVapourHpa(temperatureC), temperatureC);
  const vapourGm3 = Math.min(MAX_RH_SHARE * saturation, relax(s.vapourGm3, vapourSteady, exchangePerSec, dtSec));

  // NH3 and H2S: generation grows with litter age and temperature (NH3 volatilisation roughly doubles per ~14 °C).
  const days = s.daysSinceCleaning + dtSec / 86_400;
  const warm = Math.exp(0.05 * (temperatureC - 20));
  const nh3MgS = (p.headCount * NH3_G_PER_ANIMAL_DAY * 1000 * litterFactor(days, 30, 2.5) * warm * p.nh3Factor) / 86_400;
  const h2sMgS = (p.headCount * H2S_G_PER_ANIMAL_DAY * 1000 * litterFactor(days, 20, 4) * p.h2sFactor) / 86_400;
  const nh3Removal = exchangePerSec + (inputs.sprayOn ? SPRAY_NH3_PER_HOUR / 3600 : 0);
  const h2sRemoval = exchangePerSec + (inputs.sprayOn ? SPRAY_H2S_PER_HOUR / 3600 : 0);
  const nh3Ppm = relax(s.nh3Ppm, nh3MgS / mgPerM3PerPpm(17.03) / volume / nh3Removal, nh3Removal, dtSec);
  const h2sPpm = relax(s.h2sPpm, h2sMgS / mgPerM3PerPpm(34.08) / volume / h2sRemoval, h2sRemoval, dtSec);

  const co2M3s = (p.headCount * (p.heatPerAnimalW / 1000) * CO2_M3H_PER_KW) / 3600;
  const co2Ppm = relax(s.co2Ppm, OUTDOOR_CO2_PPM + (1e6 * co2M3s) / (qM3h / 3600), exchangePerSec, dtSec);

  const lightLux = o.solarWm2 * LUX_PER_WM2 * (0.02 + 0.08 * open) + 40; // skylights plus a few work lamps
  return { params: p, temperatureC, vapourGm3, nh3Ppm, h2sPpm, co2Ppm, daysSinceCleaning: days, lightLux };
}

export function humidityPct(s: ShedState): number {
  return clamp(relativeHumidityPct(s.temperatureC, dewPointOf(s)), 0, 100);
}

function dewPointOf(s: ShedState): number {
  // Invert Magnus for the dew point of the current vapour pressure.
  const e = Math.max(0.01, vapourPressureHpa(s.vapourGm3, s.temperatureC));
  const g = Math.log(e / 6.112);
  return (243.12 * g) / (17.62 - g);
}

export const SHED_METRICS = ['temperature', 'humidity', 'nh3', 'h2s', 'co2', 'light'] as const;

/**
 * What the climate sensor reports: the true state plus sensor noise at typical accuracies
 * (±0.3 °C, ±2 %RH, electrochemical NH3/H2S, NDIR CO2 ±(30 ppm + 3 %)), rounded to the sensor's resolution.
 */
export function read(s: ShedState, rng: Rng): Record<string, number> {
  return {
    temperature: round(s.temperatureC + rng.gaussian(0, 0.15), 1),
    humidity: round(clamp(humidityPct(s) + rng.gaussian(0, 0.8), 0, 100), 1),
    nh3: round(Math.max(0, s.nh3Ppm * (1 + rng.gaussian(0, 0.02)) + rng.gaussian(0, 0.2)), 1),
    h2s: round(Math.max(0, s.h2sPpm + rng.gaussian(0, 0.01)), 2),
    co2: Math.round(clamp(s.co2Ppm * (1 + rng.gaussian(0, 0.01)) + rng.gaussian(0, 15), 0, 20000)),
    light: Math.round(clamp(s.lightLux * (1 + rng.gaussian(0, 0.03)), 0, 200000)),
  };
}
