/**
 * Moist-air quantities derived from temperature and relative humidity, for rules and people (a shed's air at
 * its dew point wets walls and bedding; wet-bulb temperature is how far evaporation can cool, which is what a
 * panting sheep or an evaporative pad relies on). Pure.
 */

/** Magnus coefficients over water (WMO-No. 8, 2018 edition, Annex 4.B; Sonntag 1990): e_s = 6.112·exp(17.62·t/(243.12 + t)) hPa. */
const MAGNUS_A = 17.62;
const MAGNUS_B = 243.12;

/** Dew point, °C, by inverting the Magnus formula: γ = ln(RH/100) + a·t/(b + t), Td = b·γ/(a − γ). */
export function dewPointC(temperatureC: number, humidityPct: number): number {
  const rh = Math.min(100, Math.max(0.1, humidityPct));
  const gamma = Math.log(rh / 100) + (MAGNUS_A * temperatureC) / (MAGNUS_B + temperatureC);
  return (MAGNUS_B * gamma) / (MAGNUS_A - gamma);
}

/**
 * Wet-bulb temperature, °C, by Stull (2011, J. Appl. Meteor. Climatol. 50:2267-2269, "Wet-bulb temperature from
 * relative humidity and air temperature"): an empirical fit at sea-level pressure (101.325 kPa), within −1 … +0.65 °C
 * for RH 5-99 % and −20 … 50 °C; outside that range it is not defined here (undefined).
 */
export function wetBulbC(temperatureC: number, humidityPct: number): number | undefined {
  const t = temperatureC;
  const rh = humidityPct;
  if (rh < 5 || rh > 99.5 || t < -20 || t > 50) return undefined;
  return (
    t * Math.atan(0.151977 * Math.sqrt(rh + 8.313659)) +
    Math.atan(t + rh) -
    Math.atan(rh - 1.676331) +
    0.00391838 * Math.pow(rh, 1.5) * Math.atan(0.023101 * rh) -
    4.686035
  );
}
