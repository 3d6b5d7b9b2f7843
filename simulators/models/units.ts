/** Small physical helpers shared by the models. */

/** Relaxation of x towards a steady value at rate k (1/s) over dt seconds: exact for constant inputs, stable for any dt. */
export function relax(x: number, steady: number, ratePerSec: number, dtSec: number): number {
  if (ratePerSec <= 0) return x;
  return steady + (x - steady) * Math.exp(-ratePerSec * dtSec);
}

export function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, x));
}

export function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** mg/m³ per ppm of a gas at 25 °C and 1 atm: M / 24.45 (ideal gas molar volume 24.45 L). */
export function mgPerM3PerPpm(molarMassGPerMol: number): number {
  return molarMassGPerMol / 24.45;
}

/** Water vapour density, g/m³, from vapour pressure (hPa) and temperature (ideal gas, Rv = 461.5 J/(kg·K)). */
export function vapourDensityGm3(vapourPressureHpa: number, temperatureC: number): number {
  return (vapourPressureHpa * 100 * 1000) / (461.5 * (temperatureC + 273.15));
}

export function vapourPressureHpa(vapourDensityGm3: number, temperatureC: number): number {
  return (vapourDensityGm3 * 461.5 * (temperatureC + 273.15)) / (100 * 1000);
}

/** Volumetric heat capacity of air, J/(m³·K) (ρ 1.2 kg/m³ × cp 1005 J/(kg·K)). */
export const AIR_HEAT_CAPACITY = 1.2 * 1005;
/** Latent heat of vaporisation of water, J/g. */
export const LATENT_HEAT_J_PER_G = 2450;
