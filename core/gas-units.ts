/**
 * Gas concentrations in both units people read: sensors and ACGIH / NIOSH limits speak ppm (by volume), Chinese
 * standards (GBZ 2.1-2019 occupational limits, NY/T 388 livestock-farm air) speak mg/m³.
 *
 * mg/m³ = ppm × M / Vm, with Vm the molar volume of an ideal gas. We convert at 20 °C and 101.325 kPa (Vm =
 * 24.06 L/mol), the reference state of Chinese workplace air sampling (GBZ 159-2004 标准采样体积 at 20 °C,
 * 101.3 kPa), so 10 mg/m³ of H2S (the GBZ 2.1 MAC) reads 7.1 ppm. US figures use 25 °C (24.45 L/mol): about 1.6 %
 * fewer mg/m³ per ppm. Pure, no imports: the page bundle uses the same numbers as the server.
 */
export const MOLAR_VOLUME_L_20C = 24.06;

/** Molar masses, g/mol. */
export const GAS_MOLAR_MASS: Readonly<Record<string, number>> = { nh3: 17.031, h2s: 34.081 };

/** mg/m³ of a gas metric's ppm value, rounded to 0.1; undefined for metrics that are not such a gas. */
export function ppmToMgM3(metric: string, ppm: number): number | undefined {
  const m = GAS_MOLAR_MASS[metric];
  if (m === undefined || !Number.isFinite(ppm)) return undefined;
  return Math.round(((ppm * m) / MOLAR_VOLUME_L_20C) * 10) / 10;
}
