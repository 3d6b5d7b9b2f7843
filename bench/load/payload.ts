/**
 * Telemetry payloads of the load generator: valid readings (SPEC "Reading") with values well inside the
 * plausible ranges and below every demo rule threshold, so background load evaluates rules without firing them.
 */
export type Rng = () => number;

/** mulberry32: small, fast, seedable; the same seed gives the same series. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** [low, high] of a calm value per metric: no demo rule fires (THI stays below 22.2, nh3 below 20, fill below 50 ...). */
const CALM: Record<string, [number, number]> = {
  temperature: [15, 19],
  humidity: [55, 70],
  nh3: [3, 10],
  h2s: [0, 2],
  co2: [800, 1500],
  light: [100, 400],
  soil_moisture: [22, 26],
  soil_temperature: [12, 16],
  water_level: [0.1, 0.3],
  fill: [10, 30],
  flow: [50, 200],
  rain_mm: [0, 0],
};

export function calmValue(metric: string, rng: Rng): number {
  const [low, high] = CALM[metric] ?? [0, 1];
  return Math.round((low + (high - low) * rng()) * 10) / 10;
}

/** `{"ts":…,"metrics":{…}}` with the given metrics; `override` replaces single values (the rules probe's h2s). */
export function readingPayload(ts: number, metrics: readonly string[], rng: Rng, override?: Record<string, number>): string {
  let body = '';
  for (const m of metrics) body += `${body ? ',' : ''}"${m}":${override?.[m] ?? calmValue(m, rng)}`;
  return `{"ts":${ts},"metrics":{${body}}}`;
}

/** The send time a payload carries, read without parsing the whole JSON (the subscriber does this per message). */
export function payloadTs(payload: Buffer): number | undefined {
  // Payloads start with {"ts": followed by the epoch-ms digits.
  if (payload[1] !== 0x22 || payload[2] !== 0x74 || payload[3] !== 0x73) return undefined;
  let ts = 0;
  for (let i = 6; i < payload.length; i++) {
    const c = payload[i];
    if (c < 0x30 || c > 0x39) return i > 6 ? ts : undefined;
    ts = ts * 10 + (c - 0x30);
  }
  return undefined;
}
