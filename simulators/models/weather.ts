import { smoothNoise } from './rng.js';

/** Outdoor conditions at one instant: what every model takes as its boundary. */
export interface Outdoor {
  temperatureC: number;
  humidityPct: number;
  /** Global horizontal irradiance, W/m². */
  solarWm2: number;
  windMs: number;
  /** Rain intensity, mm/h (from the scenario's rain series, not from the diurnal cycle). */
  rainMmPerHour: number;
}

export interface WeatherProfile {
  name: string;
  tMinC: number;
  tMaxC: number;
  /** Dew point = tMin − this; a humid night has a small depression. */
  dewDepressionC: number;
  /** Clear-sky irradiance at solar noon, W/m² (about 900–1000 in a Hangzhou summer). */
  clearSkyPeakWm2: number;
  /** Mean cloud cover, 0..1 (oktas/8). */
  cloudCover: number;
  windMs: number;
  /** Farm-local offset from UTC; Zhejiang is UTC+8. */
  utcOffsetHours: number;
  sunriseHour: number;
  sunsetHour: number;
  /** Day-to-day wander of the daily minimum and maximum, ± °C (smooth, seeded): no two days of a week alike. */
  dayToDayC?: number;
}

const HANGZHOU = { utcOffsetHours: 8, sunriseHour: 5.25, sunsetHour: 19 };

export const WEATHER: Record<'mild' | 'cool' | 'heat-wave' | 'typhoon' | 'dry' | 'summer', WeatherProfile> = {
  mild: { name: 'mild', tMinC: 19, tMaxC: 28, dewDepressionC: 2, clearSkyPeakWm2: 900, cloudCover: 0.4, windMs: 2.5, ...HANGZHOU },
  // Late autumn: Hangzhou's November normals are about 18 °C by day and 10 °C at night (CMA 1981–2010);
  // the weather in which sheds are kept closed and ammonia builds up.
  cool: {
    name: 'cool',
    tMinC: 10,
    tMaxC: 18,
    dewDepressionC: 3,
    clearSkyPeakWm2: 600,
    cloudCover: 0.5,
    windMs: 2.5,
    utcOffsetHours: 8,
    sunriseHour: 6.5,
    sunsetHour: 17.1,
  },
  // Hangzhou saw maxima above 40 °C with nights near 30 °C in the 2013 and 2022 summer heat waves.
  'heat-wave': { name: 'heat-wave', tMinC: 29, tMaxC: 40, dewDepressionC: 4, clearSkyPeakWm2: 980, cloudCover: 0.1, windMs: 1.5, ...HANGZHOU },
  typhoon: { name: 'typhoon', tMinC: 24, tMaxC: 27, dewDepressionC: 0.5, clearSkyPeakWm2: 900, cloudCover: 1, windMs: 14, ...HANGZHOU },
  dry: { name: 'dry', tMinC: 17, tMaxC: 29, dewDepressionC: 6, clearSkyPeakWm2: 920, cloudCover: 0.15, windMs: 2, ...HANGZHOU },
  // A typical Hangzhou July: CMA climate normals 1981-2010 for Hangzhou (station 58457) give a mean daily maximum
  // of about 33.5 °C, a mean minimum of about 25.5 °C and mean relative humidity near 75 %. Dew point ≈ 24 °C
  // makes about 90 % at dawn and 55 % in the afternoon; days wander ±1.5 °C around the normals.
  summer: { name: 'summer', tMinC: 25.5, tMaxC: 33.5, dewDepressionC: 1.5, clearSkyPeakWm2: 950, cloudCover: 0.45, windMs: 2.2, dayToDayC: 1.5, ...HANGZHOU },
};

/** Farm-local hour of day (0..24) of an epoch-ms instant. */
export function localHour(tsMs: number, utcOffsetHours: number): number {
  const h = (tsMs / 3_600_000 + utcOffsetHours) % 24;
  return h < 0 ? h + 24 : h;
}

/** Saturation vapour pressure over water, hPa (Magnus form, WMO-No. 8 (2008) Annex 4.B). */
export function saturationVapourHpa(temperatureC: number): number {
  return 6.112 * Math.exp((17.62 * temperatureC) / (243.12 + temperatureC));
}

export function relativeHumidityPct(temperatureC: number, dewPointC: number): number {
  return Math.min(100, (100 * saturationVapourHpa(dewPointC)) / saturationVapourHpa(temperatureC));
}

/**
 * Air temperature over the day: cosine rise from the minimum near sunrise to the maximum at about
 * 14:30, cosine fall back overnight — a simplification of Parton & Logan (1981, Agric. Meteorol. 23:205).
 */
export function diurnalTemperatureC(p: WeatherProfile, hour: number): number {
  const hMin = p.sunriseHour;
  const hMax = 14.5;
  const amplitude = p.tMaxC - p.tMinC;
  if (hour >= hMin && hour <= hMax) return p.tMinC + (amplitude * (1 - Math.cos((Math.PI * (hour - hMin)) / (hMax - hMin)))) / 2;
  const sinceMax = hour > hMax ? hour - hMax : hour + 24 - hMax;
  const fallHours = 24 - (hMax - hMin);
  return p.tMaxC - (amplitude * (1 - Math.cos((Math.PI * sinceMax) / fallHours))) / 2;
}

/** Clear-sky irradiance: a half sine between sunrise and sunset. */
export function clearSkySolarWm2(p: WeatherProfile, hour: number): number {
  if (hour <= p.sunriseHour || hour >= p.sunsetHour) return 0;
  return p.clearSkyPeakWm2 * Math.sin((Math.PI * (hour - p.sunriseHour)) / (p.sunsetHour - p.sunriseHour));
}

/** Cloud attenuation of global radiation, Kasten & Czeplak (1980, Solar Energy 24:177): 1 − 0.75·N^3.4. */
export function cloudFactor(cloudCover: number): number {
  return 1 - 0.75 * Math.pow(Math.min(1, Math.max(0, cloudCover)), 3.4);
}

/**
 * Outdoor weather at an instant. Pure: the same profile, instant, seed and rain give the same weather.
 * Clouds and wind wander slowly (half-hour smooth noise) so two days of the same scenario differ.
 */
export function outdoorAt(p: WeatherProfile, tsMs: number, seed: number, rainMmPerHour = 0): Outdoor {
  const hour = localHour(tsMs, p.utcOffsetHours);
  const slow = tsMs / 1_800_000;
  const raining = rainMmPerHour > 0.1;
  const cloud = raining ? 1 : Math.min(1, Math.max(0, p.cloudCover + 0.25 * smoothNoise(seed ^ 0x51, slow)));
  const rainCooling = raining ? Math.min(3, 0.1 * rainMmPerHour) : 0;
  const day = (tsMs / 3_600_000 + p.utcOffsetHours) / 24;
  const shift = (p.dayToDayC ?? 0) * smoothNoise(seed ^ 0x2b, day);
  const today = shift === 0 ? p : { ...p, tMinC: p.tMinC + shift, tMaxC: p.tMaxC + shift };
  const temperatureC = diurnalTemperatureC(today, hour) + 0.6 * smoothNoise(seed ^ 0x7e, slow) - rainCooling;
  const dewPointC = Math.min(temperatureC, today.tMinC - p.dewDepressionC + 0.5 * smoothNoise(seed ^ 0x3d, slow / 4));
  const humidityPct = raining ? Math.max(relativeHumidityPct(temperatureC, dewPointC), 92) : relativeHumidityPct(temperatureC, dewPointC);
  const solarWm2 = clearSkySolarWm2(p, hour) * cloudFactor(cloud);
  const windMs = Math.max(0, p.windMs * (1 + 0.4 * smoothNoise(seed ^ 0x1f, tsMs / 300_000)));
  return { temperatureC, humidityPct: Math.min(100, humidityPct), solarWm2, windMs, rainMmPerHour: Math.max(0, rainMmPerHour) };
}
