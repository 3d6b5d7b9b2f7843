import { z } from 'zod';
import { TimestampShape } from './timestamp.js';

/**
 * The shape of a telemetry payload (SPEC "Reading"): the zod schema is the definition, and it words every error.
 * Two ways to check it, with the same verdicts:
 * - `zodShapes`: zod itself;
 * - `fastShapes` (the hot path): plain JavaScript over the parsed JSON for the shapes devices send, with no copy of
 *   the payload (zod builds a new object for every object it checks, and a reading is a few microseconds of
 *   parsing); anything it cannot vouch for (a wrong type, an unknown key, a `__proto__` key, a string `ts`) is
 *   handed to zod, which decides and says why.
 * test/ingest/reading-shape.test.ts keeps them equal: for generated payloads of every kind, both give the same
 * verdict, the same data and the same error.
 */
export const MAX_BATCH = 10_000;
export const MAX_METRIC_NAME = 64;

export const ReadingShape = z
  .object({
    ts: TimestampShape.optional(),
    metrics: z.record(
      z.string().max(MAX_METRIC_NAME),
      z.custom<number | null>((v) => typeof v === 'number' || v === null, 'metric values must be numbers'),
    ),
  })
  .strict();
export const Payload = z.union([ReadingShape, z.object({ readings: z.array(z.unknown()).min(1).max(MAX_BATCH) }).strict()]);

export type ReadingData = z.infer<typeof ReadingShape>;

export type Checked<T> = { ok: true; data: T } | { ok: false; error: z.ZodError };

export interface ShapeCheck {
  /** The readings a payload carries (one, or a batch's items, each still to be checked), or why it is neither. */
  items(json: unknown): Checked<unknown[]>;
  reading(item: unknown): Checked<ReadingData>;
}

export const zodShapes: ShapeCheck = {
  items(json) {
    const r = Payload.safeParse(json);
    if (!r.success) return { ok: false, error: r.error };
    return { ok: true, data: 'readings' in r.data ? r.data.readings : [r.data] };
  },
  reading(item) {
    const r = ReadingShape.safeParse(item);
    return r.success ? { ok: true, data: r.data } : { ok: false, error: r.error };
  },
};

export const fastShapes: ShapeCheck = {
  items(json) {
    const batch = plainBatch(json);
    if (batch) return { ok: true, data: batch };
    if (plainReading(json)) return { ok: true, data: [json] };
    return zodShapes.items(json);
  },
  reading(item) {
    const data = plainReading(item);
    return data ? { ok: true, data } : zodShapes.reading(item);
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{"readings": [1 to MAX_BATCH items]}` and nothing else; undefined for anything else. */
function plainBatch(json: unknown): unknown[] | undefined {
  if (!isPlainObject(json)) return undefined;
  let readings: unknown;
  for (const key in json) {
    if (key !== 'readings') return undefined;
    readings = json[key];
  }
  return Array.isArray(readings) && readings.length >= 1 && readings.length <= MAX_BATCH ? readings : undefined;
}

/** The item itself when zod would certainly accept it as it is; undefined when zod must decide. */
function plainReading(item: unknown): ReadingData | undefined {
  if (!isPlainObject(item)) return undefined;
  let metrics: unknown;
  let hasMetrics = false;
  for (const key in item) {
    if (key === 'metrics') {
      metrics = item[key];
      hasMetrics = true;
    } else if (key === 'ts') {
      const ts = item[key];
      // Numbers are the common case (JSON's 1e400 parses as Infinity, which zod refuses); strings go to zod.
      if (typeof ts !== 'number' || !Number.isFinite(ts)) return undefined;
    } else return undefined;
  }
  if (!hasMetrics || !isPlainObject(metrics)) return undefined;
  for (const name in metrics) {
    // zod copies a record key by key, and assigning "__proto__" does not make a key: let zod do that.
    if (name.length > MAX_METRIC_NAME || name === '__proto__') return undefined;
    const value = metrics[name];
    if (typeof value !== 'number' && value !== null) return undefined;
  }
  return item as ReadingData;
}
