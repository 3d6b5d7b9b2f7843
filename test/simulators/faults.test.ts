import { describe, expect, it } from 'vitest';
import { applySensorFaults, initialFaultState, parseFaultSpec, type FaultSpec, type SensorFaultState, type Emission } from '../../simulators/models/faults.js';
import { createRng } from '../../simulators/models/rng.js';
import { METRICS } from '../../core/metrics-catalog.js';

const reading = (i: number) => ({ ts: 1_700_000_000_000 + i * 60_000, metrics: { temperature: 20 + i * 0.1, nh3: 5 + i * 0.01 } });

/** Feeds 100 readings (one a minute) through the faults and collects what the device emits. */
function play(faults: FaultSpec[]): Emission[][] {
  const rng = createRng(1);
  let state: SensorFaultState = initialFaultState();
  const out: Emission[][] = [];
  for (let i = 0; i < 100; i++) {
    const r = applySensorFaults(faults, state, reading(i), i * 60, rng);
    state = r.state;
    out.push(r.emissions);
  }
  return out;
}

const metricsOf = (e: Emission) => (e.type === 'telemetry' ? (e.payload as { metrics?: Record<string, number> }).metrics : undefined);
const inRange = (m: Record<string, number>) => Object.entries(m).every(([k, v]) => v >= METRICS[k].min && v <= METRICS[k].max);

describe('faults on demand', () => {
  it('without faults every reading goes out unchanged', () => {
    const out = play([]);
    expect(out.every((e) => e.length === 1 && e[0].type === 'telemetry')).toBe(true);
    expect(metricsOf(out[10][0])).toEqual(reading(10).metrics);
  });

  it('a stuck sensor repeats the same values from the moment it sticks, until the window ends', () => {
    const out = play([{ kind: 'stuck', fromSec: 600, toSec: 1800 }]);
    const stuck = out.slice(10, 30).map((e) => metricsOf(e[0]));
    expect(new Set(stuck.map((m) => JSON.stringify(m))).size).toBe(1);
    expect(metricsOf(out[40][0])).toEqual(reading(40).metrics);
  });

  it('spikes are plausible but wrong values on some readings', () => {
    const out = play([{ kind: 'spike', probability: 0.3 }]);
    const changed = out.filter((e, i) => JSON.stringify(metricsOf(e[0])) !== JSON.stringify(reading(i).metrics));
    expect(changed.length).toBeGreaterThan(10);
    expect(changed.every((e) => inRange(metricsOf(e[0])!))).toBe(true);
  });

  it('a dropout goes silent for its window', () => {
    const out = play([{ kind: 'dropout', fromSec: 600, toSec: 1200 }]);
    expect(out.slice(10, 20).every((e) => e.length === 0)).toBe(true);
    expect(out[20]).toHaveLength(1);
  });

  it('out-of-range garbage lies outside the plausible range', () => {
    const out = play([{ kind: 'out-of-range', probability: 1 }]);
    expect(out.every((e) => !inRange(metricsOf(e[0])!))).toBe(true);
  });

  it('malformed payloads are raw text that is not a valid reading', () => {
    const out = play([{ kind: 'malformed', probability: 1 }]);
    for (const [e] of out) {
      expect(e.type).toBe('raw');
      const text = (e as { payload: string }).payload;
      let valid = false;
      try {
        const parsed = JSON.parse(text);
        valid = typeof parsed.ts === 'number' && typeof parsed.metrics === 'object' && Object.values(parsed.metrics).every((v) => typeof v === 'number');
      } catch {
        valid = false;
      }
      expect(valid).toBe(false);
    }
  });

  it('a store-and-forward device drops its connection, then reconnects and sends one batch', () => {
    const out = play([{ kind: 'reconnect-batch', fromSec: 600, toSec: 1200 }]);
    expect(out[10]).toEqual([{ type: 'connection', online: false }]);
    expect(out.slice(11, 20).every((e) => e.length === 0)).toBe(true);
    expect(out[20][0]).toEqual({ type: 'connection', online: true });
    const batch = (out[20][1] as { payload: { readings: { ts: number }[] } }).payload.readings;
    expect(batch.map((r) => r.ts)).toEqual(Array.from({ length: 11 }, (_, i) => reading(10 + i).ts));
  });

  it('reads faults typed on the command line', () => {
    expect(parseFaultSpec('stuck:shed-1-env@600-1800')).toEqual({ kind: 'stuck', device: 'shed-1-env', fromSec: 600, toSec: 1800 });
    expect(parseFaultSpec('never-ack')).toEqual({ kind: 'never-ack' });
    expect(() => parseFaultSpec('melted:x')).toThrow(/kind\[:device\]/);
  });

  it("takes the READMEs' words for the faults as well as the short kinds", () => {
    expect(parseFaultSpec('spiking:shed-1-env')).toEqual({ kind: 'spike', device: 'shed-1-env' });
    expect(parseFaultSpec('silent@60')).toEqual({ kind: 'dropout', fromSec: 60 });
    expect(parseFaultSpec('store-and-forward')).toEqual({ kind: 'reconnect-batch' });
    expect(parseFaultSpec('never-acknowledging:shed-2-fan')).toEqual({ kind: 'never-ack', device: 'shed-2-fan' });
    expect(() => parseFaultSpec('melted')).toThrow(/or spiking for spike, silent for dropout/);
  });
});
