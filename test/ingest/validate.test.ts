import fc from 'fast-check';
import { anyTimestampText, expectedVerdict } from '../helpers/timestamps.js';
import { describe, expect, it } from 'vitest';
import { validateTelemetry, type ValidationContext } from '../../ingest/validate.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const ctx = (over: Partial<ValidationContext> = {}): ValidationContext => ({
  kind: 'shed',
  now: NOW,
  maxBytes: 65536,
  maxFutureMs: 300_000,
  maxPastMs: 365 * 86_400_000,
  ...over,
});
const check = (payload: unknown, over?: Partial<ValidationContext>) =>
  validateTelemetry(typeof payload === 'string' ? payload : JSON.stringify(payload), ctx(over));

describe('validateTelemetry', () => {
  it('accepts a single reading with its own epoch-ms timestamp', () => {
    const r = check({ ts: NOW - 1000, metrics: { temperature: 21.5, humidity: 63.2, nh3: 12.1 } });
    expect(r.rejects).toEqual([]);
    expect(r.readings).toEqual([{ ts: NOW - 1000, metrics: { temperature: 21.5, humidity: 63.2, nh3: 12.1 } }]);
  });

  it('accepts an ISO-8601 timestamp and uses server time when ts is omitted', () => {
    expect(check({ ts: '2026-11-22T11:59:00Z', metrics: { nh3: 3 } }).readings[0].ts).toBe(NOW - 60_000);
    expect(check({ metrics: { nh3: 3 } }).readings[0].ts).toBe(NOW);
  });

  it('judges each reading of a batch on its own', () => {
    const r = check({
      readings: [
        { ts: NOW - 2000, metrics: { nh3: 5 } },
        { ts: NOW - 1000, metrics: { nh3: 900 } },
        { ts: NOW, metrics: { nh3: 6 } },
      ],
    });
    expect(r.readings.map((x) => x.metrics.nh3)).toEqual([5, 6]);
    expect(r.rejects).toEqual([{ reason: 'out_of_range', detail: expect.stringContaining('readings[1]: nh3=900') }]);
  });

  it.each([
    ['malformed_json', '{"metrics": {'],
    ['malformed_json', '\u0000\u0001garbage'],
    ['schema', '42'],
    ['schema', '{"metrics": {"temperature": "hot"}}'],
    ['schema', '{"metrics": {"temperature": "NaN"}}'],
    ['schema', '{"metrics": {}}'],
    ['schema', '{"metrics": {"temperature": 1}, "extra": true}'],
    ['schema', '{"ts": "yesterday", "metrics": {"temperature": 1}}'],
    ['schema', '{"readings": []}'],
    ['out_of_range', '{"metrics": {"temperature": 1e400}}'],
    ['out_of_range', '{"metrics": {"humidity": 101}}'],
    ['out_of_range', '{"metrics": {"co2": -1}}'],
    ['unknown_metric', '{"metrics": {"radiation": 1}}'],
    ['unknown_metric', '{"metrics": {"fill": 50}}'],
  ])('rejects %s: %s', (reason, payload) => {
    const r = check(payload);
    expect(r.readings).toEqual([]);
    expect(r.rejects.map((x) => x.reason)).toEqual([reason]);
  });

  it('rejects a prototype-polluting metric name', () => {
    const r = check('{"metrics": {"__proto__": 1}}');
    expect(r.readings).toEqual([]);
    expect(['schema', 'unknown_metric']).toContain(r.rejects[0].reason);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects deeply nested JSON without crashing', () => {
    const r = check('['.repeat(30_000) + ']'.repeat(30_000));
    expect(r.readings).toEqual([]);
    expect(['malformed_json', 'schema']).toContain(r.rejects[0].reason);
  });

  it('rejects a payload over the size limit before parsing it', () => {
    const r = check({ metrics: { nh3: 1 }, pad: 'x'.repeat(2000) }, { maxBytes: 1024 });
    expect(r.rejects).toEqual([{ reason: 'oversize', detail: expect.stringContaining('limit is 1024') }]);
  });

  it('rejects timestamps far in the future or absurdly old, naming the device clock', () => {
    expect(check({ ts: NOW + 3_600_000, metrics: { nh3: 1 } }).rejects[0]).toEqual({
      reason: 'future_timestamp',
      detail: expect.stringContaining('device clock'),
    });
    expect(check({ ts: 1_700_000, metrics: { nh3: 1 } }).rejects[0].reason).toBe('stale_timestamp');
    expect(check({ ts: NOW + 60_000, metrics: { nh3: 1 } }).readings).toHaveLength(1);
  });

  it('refuses metrics the device is not configured to measure', () => {
    expect(check({ metrics: { co2: 800 } }, { metrics: ['temperature', 'nh3'] }).rejects[0].reason).toBe('unknown_metric');
    expect(check({ metrics: { nh3: 8 } }, { metrics: ['temperature', 'nh3'] }).readings).toHaveLength(1);
  });

  it('accepts drain and field metrics only in their zone kinds', () => {
    expect(check({ metrics: { fill: 55, water_level: 0.4 } }, { kind: 'drain' }).readings).toHaveLength(1);
    expect(check({ metrics: { rain_mm: 2.5 } }, { kind: 'field' }).readings).toHaveLength(1);
    expect(check({ metrics: { soil_moisture: 30 } }, { kind: 'drain' }).rejects[0].reason).toBe('unknown_metric');
  });
});

describe('timestamps across the whole number line (generated)', () => {
  it('never throws; rejects the reading with a time reason or schema; always keeps the valid reading beside it', () => {
    fc.assert(
      // Plus times near now, across both edges of the window, so every verdict comes up often.
      fc.property(fc.oneof(anyTimestampText, fc.integer({ min: NOW - 400 * 86_400_000, max: NOW + 3_600_000 }).map(String)), (tsText) => {
        const payload = `{"readings":[{"ts":${tsText},"metrics":{"nh3":1}},{"ts":${NOW - 1000},"metrics":{"nh3":2}}]}`;
        const r = validateTelemetry(payload, ctx());
        const expected = expectedVerdict(tsText, NOW, 300_000, 365 * 86_400_000);
        expect(r.readings.at(-1)).toEqual({ ts: NOW - 1000, metrics: { nh3: 2 } });
        if (expected === 'accepted') expect(r.readings).toHaveLength(2);
        else expect(r.rejects.map((x) => x.reason)).toEqual([expected]);
        // A rejected reading's message says which one and can be shown (no "Invalid Date", no RangeError).
        for (const x of r.rejects) expect(x.detail).toMatch(/^readings\[0\]: ts[ :].*(future|older|not a time)/);
      }),
      { numRuns: 2000 },
    );
  });
});
