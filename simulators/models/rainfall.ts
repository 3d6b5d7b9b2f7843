import { smoothNoise } from './rng.js';
import { clamp } from './units.js';

/** Rain intensity in mm/h as a pure function of seconds since the scenario started. */
export type RainSeries = (tSec: number) => number;

export const dry: RainSeries = () => 0;

/**
 * Storm intensity–duration–frequency curve in the form of the Chinese design code
 * (GB 50014 "Code for design of outdoor wastewater engineering": q = 167·A1(1 + C·lgP)/(t + b)^n L/(s·ha)),
 * here as mean intensity in mm/min (q/167).
 * The default parameters are illustrative of an East-China plain city, not an official Hangzhou formula.
 */
export interface Idf {
  a1: number;
  c: number;
  b: number;
  n: number;
}

export const EAST_CHINA_IDF: Idf = { a1: 16.5, c: 0.8, b: 12, n: 0.72 };

export function idfMeanMmPerMin(idf: Idf, returnPeriodYears: number, durationMin: number): number {
  return (idf.a1 * (1 + idf.c * Math.log10(returnPeriodYears))) / Math.pow(durationMin + idf.b, idf.n);
}

/**
 * Chicago design storm (Keifer & Chu 1957, J. Hydraul. Div. ASCE 83(4):1332): the instantaneous intensity
 * whose every centred window reproduces the IDF curve; `peakRatio` r places the peak at r·duration
 * (0.35–0.45 is usual in Chinese practice).
 */
export function chicagoHyetograph(opts: { idf?: Idf; returnPeriodYears: number; durationMin: number; peakRatio?: number; startSec?: number }): RainSeries {
  const idf = opts.idf ?? EAST_CHINA_IDF;
  const r = opts.peakRatio ?? 0.4;
  const a = idf.a1 * (1 + idf.c * Math.log10(opts.returnPeriodYears));
  const start = opts.startSec ?? 0;
  return (tSec) => {
    const tMin = (tSec - start) / 60;
    if (tMin < 0 || tMin > opts.durationMin) return 0;
    const peakMin = r * opts.durationMin;
    const tau = tMin < peakMin ? (peakMin - tMin) / r : (tMin - peakMin) / (1 - r);
    const mmPerMin = (a * ((1 - idf.n) * tau + idf.b)) / Math.pow(tau + idf.b, 1 + idf.n);
    return mmPerMin * 60;
  };
}

/**
 * A typhoon's rain at one place: outer rain bands for most of a day, a ramp as the core arrives, hours of
 * 50–70 mm/h with embedded bands, a taper, then nothing.
 * Typhoon In-Fa (No. 6 of 2021) crawled across northern Zhejiang on 24–27 July 2021: a day and more of
 * outer-band rain, then sustained extreme rain near its centre, with multi-day totals of several hundred
 * mm; the second-wettest tropical cyclone on record in China. This series keeps that shape in one day:
 * the outer bands alone pass 50 mm in 12 h (CMA blue rainstorm signal) before any 6 h holds 50 mm
 * (yellow), the ramp passes 50 mm in 3 h (orange) and the core 100 mm in 3 h (red).
 */
export interface TyphoonOptions {
  seed: number;
  startSec?: number;
  /** Outer rain bands: hours and mean intensity (mm/h). */
  outerHours?: number;
  outerMmPerHour?: number;
  rampHours?: number;
  coreHours?: number;
  coreMmPerHour?: number;
  taperHours?: number;
}

export function typhoonSeries(opts: TyphoonOptions): RainSeries {
  const start = opts.startSec ?? 0;
  const outer = (opts.outerHours ?? 8) * 3600;
  const outerMean = opts.outerMmPerHour ?? 6.5;
  const ramp = (opts.rampHours ?? 1.5) * 3600;
  const core = (opts.coreHours ?? 3.5) * 3600;
  const mean = opts.coreMmPerHour ?? 62;
  const taper = (opts.taperHours ?? 0.5) * 3600;
  return (tSec) => {
    const t = tSec - start;
    if (t < 0) return 0;
    const band = smoothNoise(opts.seed, t / 900); // rain bands pass every ~15 min
    if (t < outer) return clamp(outerMean * (1 + 0.6 * band), 0.5, 2.5 * outerMean);
    if (t < outer + ramp) return outerMean + (mean - outerMean) * ((t - outer) / ramp) + 6 * band;
    if (t < outer + ramp + core) return clamp(mean + 14 * band, mean - 18, mean + 25);
    const intoTaper = t - outer - ramp - core;
    if (intoTaper < taper) return Math.max(0, mean * (1 - intoTaper / taper) + 4 * band);
    return 0;
  };
}

/** When the rain of a typhoon series with these options stops, seconds after its start. */
export function typhoonRainEndSec(opts: Omit<TyphoonOptions, 'seed' | 'startSec'> = {}): number {
  return ((opts.outerHours ?? 8) + (opts.rampHours ?? 1.5) + (opts.coreHours ?? 3.5) + (opts.taperHours ?? 0.5)) * 3600;
}

/** Showers on an ordinary day: a short Chicago storm each afternoon of modest return period. */
export function dailyShower(opts: { startSec: number; returnPeriodYears?: number; durationMin?: number; periodSec?: number }): RainSeries {
  const storm = chicagoHyetograph({ returnPeriodYears: opts.returnPeriodYears ?? 0.5, durationMin: opts.durationMin ?? 40 });
  const period = opts.periodSec ?? 86_400;
  return (tSec) => {
    const t = tSec - opts.startSec;
    if (t < 0) return 0;
    return storm(t % period);
  };
}

export function sumSeries(...series: RainSeries[]): RainSeries {
  return (t) => series.reduce((sum, s) => sum + s(t), 0);
}

/** Rain depth between two instants, mm (midpoint rule, one-minute steps). */
export function rainDepthMm(series: RainSeries, fromSec: number, toSec: number, stepSec = 60): number {
  let total = 0;
  for (let t = fromSec; t < toSec; t += stepSec) {
    const dt = Math.min(stepSec, toSec - t);
    total += (series(t + dt / 2) * dt) / 3600;
  }
  return total;
}
