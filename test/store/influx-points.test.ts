import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import { METRIC_NAMES } from '../../core/metrics-catalog.js';
import { createReadingLines, readingLine } from '../../store/influx-points.js';

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
