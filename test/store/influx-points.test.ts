import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import { METRIC_NAMES } from '../../core/metrics-catalog.js';
import { createReadingLines, readingKeyOfLine, readingLine } from '../../store/influx-points.js';

/**
 * The drainer's fast line formatter writes exactly what the influxdb-client Point gives for the same reading:
 * tags and fields sorted, escaped, floats as JavaScript prints them, the same refusal of a non-finite value.
 */
const id = fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,12}$/) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
const value = fc.oneof(
  { weight: 6, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e21, 1.5e-7, -1e-300, Number.MAX_VALUE, NaN, Infinity) },
);
const metrics = fc.dictionary(fc.oneof(fc.constantFrom(...METRIC_NAMES), fc.string({ maxLength: 6 })), value, { maxKeys: 6 });
const reading = fc.record({
  site: id,
  zone: id,
  kind: fc.constantFrom<Reading['kind']>('shed', 'field', 'drain'),
  device: id,
  ts: fc.oneof(fc.integer({ min: 0, max: 4_000_000_000_000 }), fc.double({ min: 0, max: 4e12, noNaN: true })),
  metrics,
});

const outcome = (f: (r: Reading) => string | undefined, r: Reading) => {
  try {
    return { line: f(r) };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

describe('telemetry line protocol', () => {
  it('the fast formatter writes what Point writes, for every reading, also when a device changes place', () => {
    const fast = createReadingLines();
    fc.assert(
      fc.property(fc.array(reading, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 3 }), (readings, moves) => {
        for (const r of readings) expect(outcome(fast, r)).toEqual(outcome(readingLine, r));
        // The same device again in another zone: the cached series must not be reused.
        const moved = { ...readings[0], zone: `${readings[0].zone}-${moves}` };
        expect(outcome(fast, moved)).toEqual(outcome(readingLine, moved));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the key of a reading waiting as a line', () => {
  // Ids as the farm file allows them, and now and then any text without a backslash (line protocol does not escape
  // one, so a tag value ending in a backslash is ambiguous for InfluxDB itself).
  const anyId = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,12}$/) },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 8 }).filter((t) => !t.includes('\\')) },
  );
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
  it('gives back the device, the timestamp and the metric names of every reading line, from either formatter', () => {
    const fast = createReadingLines();
    fc.assert(
      fc.property(
        fc.record({
          site: anyId,
          zone: anyId,
          kind: fc.constantFrom<Reading['kind']>('shed', 'field', 'drain'),
          device: anyId,
          ts: fc.integer({ min: 0, max: 4_000_000_000_000 }),
          metrics: fc.dictionary(fc.oneof(fc.constantFrom(...METRIC_NAMES), anyId), finite, { minKeys: 1, maxKeys: 6 }),
        }),
        (r) => {
          const expected = { device: r.device, ts: r.ts, metrics: Object.keys(r.metrics).sort() };
          expect(readingKeyOfLine(fast(r)!)).toEqual(expected);
          expect(readingKeyOfLine(readingLine(r)!)).toEqual(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is undefined for a line that is not a reading', () => {
    expect(readingKeyOfLine('alert,site=a level="x" 1')).toBeUndefined();
    expect(readingKeyOfLine('telemetry,site=a temperature=1 5')).toBeUndefined(); // no device
    expect(readingKeyOfLine('telemetry,device=d temperature=1')).toBeUndefined(); // no time
    expect(readingKeyOfLine('garbage')).toBeUndefined();
    expect(readingKeyOfLine('telemetry,device=d\\ 2,site=a nh3=1,temperature=2 17')).toEqual({ device: 'd 2', ts: 17, metrics: ['nh3', 'temperature'] });
  });
});
