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

/**
 * Typhoon In-Fa (No. 6 of 2021) as Hangzhou measured it: 230-290 mm over 23-26 July 2021, mostly under 10 mm/h,
 * the wettest hour about 24 mm (Hangzhou Daily reports of the city's gauges). In-Fa crawled: a day and a half of
 * outer bands, a wet 25 July with one burst, a tapering 26 July. From t = 0 at 23 July 00:00 local the series gives
 * ≈ 30 mm on the 23rd, ≈ 75 mm on the 24th, ≈ 115 mm on the 25th (a burst of 14, 24, 16 mm from 12:00: 54 mm in
 * 3 h) and ≈ 35 mm on the 26th, ≈ 255 mm in all; every other hour stays under 10 mm.
 */
export interface InFaOptions {
  seed: number;
  startSec?: number;
}

/** Mean intensity (mm/h) of each stretch from 23 July 00:00 local, and the burst's hourly depths. */
const IN_FA_STRETCHES: { toHour: number; mmPerHour: number }[] = [
  { toHour: 10, mmPerHour: 0 },
  { toHour: 24, mmPerHour: 2.2 },
  { toHour: 48, mmPerHour: 3.1 },
  { toHour: 60, mmPerHour: 2.8 },
  { toHour: 63, mmPerHour: 0 }, // the burst, below
  { toHour: 72, mmPerHour: 3.6 },
  { toHour: 90, mmPerHour: 1.9 },
];
const IN_FA_BURST = { fromHour: 60, mm: [14, 24, 16] };
export const IN_FA_RAIN_END_HOUR = 90;

/** The depth (mm) In-Fa's series gives in local hour `hour` after its start (before sub-hourly wander). */
export function inFaHourlyMm(seed: number, hour: number): number {
  if (hour < 0 || hour >= IN_FA_RAIN_END_HOUR) return 0;
  const burst = hour - IN_FA_BURST.fromHour;
  if (burst >= 0 && burst < IN_FA_BURST.mm.length) return IN_FA_BURST.mm[burst];
  const mean = IN_FA_STRETCHES.find((s) => hour < s.toHour)!.mmPerHour;
  // Rain bands: some hours twice the mean, some near nothing, never 10 mm.
  return clamp(mean * (1 + 0.7 * smoothNoise(seed, hour / 2.5)), 0, 9.5);
}

export function inFaHangzhou(opts: InFaOptions): RainSeries {
  const start = opts.startSec ?? 0;
  return (tSec) => {
    const t = tSec - start;
    if (t < 0) return 0;
    const hour = Math.floor(t / 3600);
    // Within an hour the intensity wanders ±25 % around the hour's depth (bands pass every ~15 min).
    return inFaHourlyMm(opts.seed, hour) * (1 + 0.25 * smoothNoise(opts.seed ^ 0x5a, t / 900));
  };
}

/**
 * The cloudburst that flooded Hangzhou's streets a few days after In-Fa: 95.3 mm in one hour at Beigaofeng on
 * 30 July 2021 (Hangzhou Daily). Half an hour of build-up (≈ 6 mm), the hour itself as a sin² pulse peaking near
 * 190 mm/h, then 40 min of tail (≈ 9 mm): ≈ 110 mm, so 3 h hold more than 100 mm (CMA red).
 */
export const CLOUDBURST_PEAK_HOUR_MM = 95.3;

export function cloudburst(opts: { startSec: number }): RainSeries {
  return (tSec) => {
    const t = (tSec - opts.startSec) / 3600; // hours since the build-up began
    if (t < 0) return 0;
    if (t < 0.5) return 24 * (t / 0.5);
    const peak = t - 0.5;
    if (peak < 1) return CLOUDBURST_PEAK_HOUR_MM * 2 * Math.sin(Math.PI * peak) ** 2;
    const tail = peak - 1;
    if (tail < 2 / 3) return 27 * (1 - tail / (2 / 3));
    return 0;
  };
}

/** When the cloudburst's rain stops, seconds after its build-up began. */
export const CLOUDBURST_DURATION_SEC = (0.5 + 1 + 2 / 3) * 3600;

/** Afternoon thundershowers on chosen days (Chicago storms): a summer week's rain. */
export function showers(list: { startSec: number; returnPeriodYears: number; durationMin: number }[]): RainSeries {
  return sumSeries(...list.map((s) => chicagoHyetograph({ returnPeriodYears: s.returnPeriodYears, durationMin: s.durationMin, startSec: s.startSec })));
}
