import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../core/metrics-catalog.js';
import { fastShapes, MAX_BATCH, zodShapes, type Checked } from '../../ingest/reading-shape.js';
import { validateTelemetry, type ValidationContext } from '../../ingest/validate.js';
import { anyTimestampText } from '../helpers/timestamps.js';

/**
 * The hot path of the payload shape (fastShapes) gives zod's verdict, data and error for every payload: generated
 * readings and batches, right and wrong in every part (keys, types, names, values, timestamps, nesting), and
 * arbitrary JSON. Compared at the shape check itself and through validateTelemetry (what a device is told).
 */
const NOW = Date.parse('2026-11-22T12:00:00Z');
const ctx: ValidationContext = { kind: 'shed', now: NOW, maxBytes: 1 << 20, maxFutureMs: 300_000, maxPastMs: 365 * 86_400_000 };

const metricName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...METRIC_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'thi', '1', '0') },
  { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 70 }) },
  { weight: 1, arbitrary: fc.string() },
);
/** Metric values as JSON text: numbers of every size (1e400 is Infinity once parsed), and what is not a number. */
const valueText = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -1000, max: 1000, noNaN: true }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constantFrom('1e400', '-1e400', 'null', '"5"', 'true', '[]', '{}', '[1]', '{"a":1}', '-0', '1e-400') },
  { weight: 1, arbitrary: fc.integer().map(String) },
);
const metricsText = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .array(fc.tuple(metricName, valueText), { maxLength: 5 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('[]', '[1,2]', 'null', '"temperature"', '5', '{"temperature":1,"temperature":"x"}') },
);
const readingText = fc
  .record(
    {
      ts: fc.oneof(anyTimestampText, fc.integer({ min: NOW - 86_400_000, max: NOW }).map(String)),
      metrics: metricsText,
      extra: fc.tuple(
        fc.constantFrom('extra', '__proto__', 'readings', 'Metrics', 'ts '),
        fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      ),
    },
    { requiredKeys: [] },
  )
  .map(({ ts, metrics, extra }) => {
    const parts: string[] = [];
    if (ts !== undefined) parts.push(`"ts":${ts}`);
    if (metrics !== undefined) parts.push(`"metrics":${metrics}`);
    if (extra !== undefined) parts.push(`${JSON.stringify(extra[0])}:${extra[1]}`);
    return `{${parts.join(',')}}`;
  });
const payloadText = fc.oneof(
  { weight: 6, arbitrary: readingText },
  { weight: 4, arbitrary: fc.array(readingText, { minLength: 0, maxLength: 6 }).map((items) => `{"readings":[${items.join(',')}]}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(readingText, { maxLength: 2 }), fc.jsonValue())
      .map(([items, v]) => `{"readings":[${items.join(',')}],"other":${JSON.stringify(v) ?? 'null'}}`),
  },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.constantFrom('[]', 'null', '{"readings":{}}', '{"readings":null}', '[{"metrics":{"temperature":1}}]') },
);

/** What a shape check says, in a comparable form: its data, or zod's issues. */
const outcome = (c: Checked<unknown>) => (c.ok ? { ok: true, data: c.data } : { ok: false, issues: c.error.issues });

describe('the payload shape: hot path and zod agree', () => {
  it('on every generated payload: same verdict, same data, same error', () => {
    fc.assert(
      fc.property(payloadText, (text) => {
        const json: unknown = JSON.parse(text);
        const fast = fastShapes.items(json);
        expect(outcome(fast)).toEqual(outcome(zodShapes.items(json)));
        const items = Array.isArray((json as { readings?: unknown })?.readings) ? (json as { readings: unknown[] }).readings : [json];
        for (const item of items) expect(outcome(fastShapes.reading(item))).toEqual(outcome(zodShapes.reading(item)));
        expect(validateTelemetry(text, ctx, fastShapes)).toEqual(validateTelemetry(text, ctx, zodShapes));
      }),
      { numRuns: 3000 },
    );
  });

  it('at the batch size limit and one past it', () => {
    for (const n of [MAX_BATCH, MAX_BATCH + 1]) {
      const text = JSON.stringify({ readings: Array.from({ length: n }, (_, i) => ({ ts: NOW - n + i, metrics: { temperature: 20 } })) });
      const fast = validateTelemetry(text, ctx, fastShapes);
      expect(fast).toEqual(validateTelemetry(text, ctx, zodShapes));
      expect(fast.readings).toHaveLength(n === MAX_BATCH ? n : 0);
    }
  });

  it('takes the common shapes without zod: the reading itself comes back, not a copy', () => {
    const json = JSON.parse('{"ts":1732280000000,"metrics":{"temperature":21.5,"humidity":63.2}}');
    const checked = fastShapes.reading(json);
    expect(checked.ok && checked.data).toBe(json);
    const batch = JSON.parse('{"readings":[{"metrics":{"nh3":1}}]}');
    const items = fastShapes.items(batch);
    expect(items.ok && items.data).toBe(batch.readings);
  });
});
