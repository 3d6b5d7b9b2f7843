import { describe, expect, it } from 'vitest';
import { createRng, payloadTs, readingPayload } from '../../bench/load/payload.js';
import { validateTelemetry } from '../../ingest/validate.js';

describe('load generator payloads', () => {
  it('are readings the service accepts, for every metric set the bench farms use', () => {
    const rng = createRng(1);
    const now = Date.now();
    for (const [kind, metrics] of [
      ['shed', ['temperature', 'humidity', 'nh3', 'h2s', 'co2', 'light']],
      ['field', ['temperature', 'humidity', 'soil_moisture', 'soil_temperature', 'light']],
      ['drain', ['water_level', 'fill', 'flow']],
      ['drain', ['rain_mm']],
    ] as const) {
      const payload = readingPayload(now, metrics, rng);
      const result = validateTelemetry(Buffer.from(payload), {
        kind,
        now,
        maxBytes: 65536,
        maxFutureMs: 300_000,
        maxPastMs: 86_400_000,
        metrics: [...metrics],
      });
      expect(result.rejects, payload).toEqual([]);
      expect(result.readings).toHaveLength(1);
      expect(Object.keys(result.readings[0].metrics).sort()).toEqual([...metrics].sort());
    }
  });

  it('carry a send time the subscriber reads without parsing the JSON', () => {
    const payload = readingPayload(1732280000123, ['temperature'], createRng(2), { temperature: 30 });
    expect(JSON.parse(payload)).toEqual({ ts: 1732280000123, metrics: { temperature: 30 } });
    expect(payloadTs(Buffer.from(payload))).toBe(1732280000123);
    expect(payloadTs(Buffer.from('{"readings":[]}'))).toBeUndefined();
  });
});
