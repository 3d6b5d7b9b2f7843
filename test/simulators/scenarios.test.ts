import { describe, expect, it } from 'vitest';
import { outdoorAt } from '../../simulators/models/weather.js';
import { createFarmSimulation, type FarmSimulation, type SimOutput } from '../../simulators/farm-sim.js';
import { getScenario, SCENARIO_NAMES } from '../../simulators/scenarios.js';
import { METRICS, sheepThi } from '../../core/metrics-catalog.js';
import { demoLikeFarm, farm, localTime, pipeZone, shedZone } from './fixtures.js';

type Telemetry = { device: string; ts: number; metrics: Record<string, number> };

function telemetry(out: SimOutput[]): Telemetry[] {
  return out.flatMap((m) => {
    if (m.channel !== 'telemetry' || typeof m.payload === 'string') return [];
    const p = m.payload as { ts: number; metrics: Record<string, number> };
    return [{ device: m.device, ts: p.ts, metrics: p.metrics }];
  });
}
const of = (rows: Telemetry[], device: string, metric: string) =>
  rows.filter((r) => r.device === device && metric in r.metrics).map((r) => ({ ts: r.ts, value: r.metrics[metric] }));
const command = (sim: FarmSimulation, device: string, action: 'on' | 'off', id: string) =>
  sim.command(device, JSON.stringify({ id, action, reason: 'rule:shed-ammonia', ts: sim.now() }));

describe('scenarios', () => {
  it.each([
    ['a 200-head shed by day', demoLikeFarm(), 10],
    ['a 320-head, 600 m² shed on a cool night', farm({ huyang: [shedZone(1, { headCount: 320, areaM2: 600 }), shedZone(2)] }), 3],
  ])('ammonia-buildup in %s: NH3 passes 20 ppm within minutes with no actuators, and spray + fan bring it below 15 ppm', (_, f, hour) => {
    const sim = createFarmSimulation({ farm: f, scenario: 'ammonia-buildup', seed: 3, startTs: localTime(hour), reportEverySec: 30 });
    const rising = of(telemetry(sim.advance(15 * 60)), 'shed-1-env', 'nh3');
    const crossedAt = rising.find((r) => r.value > 20);
    expect(crossedAt).toBeDefined();
    expect((crossedAt!.ts - sim.startTs) / 60_000).toBeLessThan(10);
    expect(command(sim, 'shed-1-spray', 'on', 'c1')?.payload).toMatchObject({ state: 'on', ack: 'c1' });
    expect(command(sim, 'shed-1-fan', 'on', 'c2')?.payload).toMatchObject({ state: 'on', value: 100, ack: 'c2' });
    const falling = of(telemetry(sim.advance(20 * 60)), 'shed-1-env', 'nh3');
    expect(falling.at(-1)!.value).toBeLessThan(15);
    // The other sheds stay normal.
    expect(Math.max(...of(telemetry(sim.advance(600)), 'shed-2-env', 'nh3').map((r) => r.value))).toBeLessThan(15);
  });

  it('ammonia-buildup keeps climbing while nobody acts', () => {
    const sim = createFarmSimulation({ farm: demoLikeFarm(), scenario: 'ammonia-buildup', seed: 3, startTs: localTime(10), reportEverySec: 60 });
    const nh3 = of(telemetry(sim.advance(3600)), 'shed-1-env', 'nh3');
    expect(nh3.at(-1)!.value).toBeGreaterThan(35);
  });

  it('typhoon: In-Fa over three and a half days; pipes rise with the rain and run low again once it has passed', () => {
    const sim = createFarmSimulation({ farm: demoLikeFarm(), scenario: 'typhoon', seed: 7, startTs: localTime(0), reportEverySec: 600 });
    const rows = telemetry(sim.advance(getScenario('typhoon').durationSec));
    const rain = of(rows, 'gauge-1-rain', 'rain_mm');
    const total = rain.reduce((a, r) => a + r.value, 0);
    expect(total).toBeGreaterThan(220); // a gauge sees the storm ±5 % (and up to 10 min late)
    expect(total).toBeLessThan(310);
    const lastRain = rain.filter((r) => r.value > 0).at(-1)!.ts;
    const fill = of(rows, 'pipe-b-level', 'fill');
    const during = fill.filter((f) => f.ts < lastRain);
    const dryAgain = fill.filter((f) => f.ts > lastRain + 6 * 3_600_000);
    expect(Math.max(...during.map((f) => f.value))).toBeGreaterThan(Math.max(...dryAgain.map((f) => f.value)) + 20);
  });

  it('cloudburst: storm pipes fill to the crown within the hour of 95 mm, and drain again', () => {
    const sim = createFarmSimulation({ farm: demoLikeFarm(), scenario: 'cloudburst', seed: 7, startTs: localTime(0), reportEverySec: 300 });
    const rows = telemetry(sim.advance(24 * 3600));
    const level = of(rows, 'pipe-b-level', 'water_level');
    expect(Math.max(...level.map((l) => l.value))).toBeGreaterThanOrEqual(1.0); // DN1000: full or surcharged
    expect(level.at(-1)!.value).toBeLessThan(0.5);
  });

  it('summer-week: a Hangzhou July week outdoors, about 33.5 °C by day and 25.5 °C at night, no two days alike', () => {
    const p = getScenario('summer-week').weather;
    const days = Array.from({ length: 7 }, (_, d) => {
      const temps = Array.from({ length: 48 }, (_, h) => outdoorAt(p, localTime(0) + d * 86_400_000 + h * 1_800_000, 3).temperatureC);
      return { max: Math.max(...temps), min: Math.min(...temps) };
    });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(days.map((d) => d.max))).toBeCloseTo(33.5, -0.5);
    expect(mean(days.map((d) => d.min))).toBeCloseTo(25.5, -0.5);
    expect(new Set(days.map((d) => Math.round(d.max))).size).toBeGreaterThan(1);
  });

  it('blocked-pipe: every pipe keeps its dry-weather level for nine days; then one, chosen by the seed, silts up on the tenth morning and stays high', () => {
    const plain = farm({ d: [pipeZone('p1'), pipeZone('p2'), pipeZone('p3')] });
    const day = 86_400_000;
    const sim = createFarmSimulation({ farm: plain, scenario: 'blocked-pipe', seed: 5, startTs: localTime(0), reportEverySec: 1800 });
    const rows = telemetry(sim.advance(11 * 86_400));
    const levels = (p: string, from: number, to: number) =>
      of(rows, `${p}-level`, 'water_level')
        .filter((r) => r.ts >= sim.startTs + from && r.ts < sim.startTs + to)
        .map((r) => r.value);
    const before = (p: string) => Math.max(...levels(p, 4 * day, 9 * day));
    const after = (p: string) => Math.min(...levels(p, 9 * day + 16 * 3_600_000, 11 * day));
    const silted = ['p1', 'p2', 'p3'].filter((p) => after(p) > before(p) + 0.3);
    expect(silted).toHaveLength(1);
  });

  it('heat-wave: without fans the shed THI reaches extreme heat stress', () => {
    const sim = createFarmSimulation({ farm: farm({ s: [shedZone(1)] }), scenario: 'heat-wave', seed: 2, startTs: localTime(9), reportEverySec: 300 });
    const rows = telemetry(sim.advance(8 * 3600)).filter((r) => r.device === 'shed-1-env');
    const thi = rows.map((r) => sheepThi(r.metrics.temperature, r.metrics.humidity));
    expect(Math.max(...thi)).toBeGreaterThan(25.6);
  });

  it.each(SCENARIO_NAMES.filter((n) => n !== 'sensor-faults'))(
    '%s: every reading is valid JSON with metrics inside the SPEC ranges for its zone kind',
    (name) => {
      const f = demoLikeFarm();
      const kinds = new Map(f.sites.flatMap((s) => s.zones.flatMap((z) => z.devices.map((d) => [d.id, z.kind] as const))));
      const sim = createFarmSimulation({ farm: f, scenario: name, seed: 11, startTs: localTime(0), reportEverySec: 600 });
      const out = sim.advance(Math.min(getScenario(name).durationSec, 24 * 3600));
      expect(out.every((m) => m.channel === 'telemetry' && typeof m.payload === 'object')).toBe(true);
      for (const r of telemetry(out)) {
        for (const [metric, value] of Object.entries(r.metrics)) {
          const spec = METRICS[metric];
          expect(spec.kinds).toContain(kinds.get(r.device));
          expect(Number.isFinite(value)).toBe(true);
          expect(value, `${r.device} ${metric}`).toBeGreaterThanOrEqual(spec.min);
          expect(value, `${r.device} ${metric}`).toBeLessThanOrEqual(spec.max);
        }
      }
    },
  );

  it('sensor-faults: stuck, spiking, silent, garbage, malformed and batching sensors, and an actuator that never acknowledges', () => {
    const sim = createFarmSimulation({ farm: demoLikeFarm(), scenario: 'sensor-faults', seed: 4, startTs: localTime(10), reportEverySec: 60 });
    expect(new Set(sim.faults.map((f) => f.kind))).toEqual(new Set(['stuck', 'spike', 'dropout', 'out-of-range', 'malformed', 'reconnect-batch', 'never-ack']));
    const out = sim.advance(2 * 3600);
    const faulty = (kind: string) => sim.faults.find((f) => f.kind === kind)!.device!;
    expect(out.some((m) => m.channel === 'telemetry' && typeof m.payload === 'string' && m.device === faulty('malformed'))).toBe(true);
    expect(out.filter((m) => m.channel === 'connection' && m.device === faulty('reconnect-batch')).map((m) => m.channel === 'connection' && m.online)).toEqual([
      false,
      true,
    ]);
    expect(out.some((m) => m.channel === 'telemetry' && typeof m.payload === 'object' && 'readings' in m.payload)).toBe(true);
    const garbage = telemetry(out).filter((r) => r.device === faulty('out-of-range'));
    expect(garbage.some((r) => Object.entries(r.metrics).some(([k, v]) => v > METRICS[k].max || v < METRICS[k].min))).toBe(true);
    const stuck = telemetry(out).filter((r) => r.device === faulty('stuck') && r.ts > sim.startTs + 700_000);
    expect(new Set(stuck.map((r) => JSON.stringify(r.metrics))).size).toBe(1);
    const silent = telemetry(out).filter((r) => r.device === faulty('dropout') && r.ts >= sim.startTs + 900_000 && r.ts < sim.startTs + 2_700_000);
    expect(silent).toEqual([]);
    expect(sim.command(faulty('never-ack'), JSON.stringify({ id: 'x', action: 'on', reason: 'manual:ops', ts: 0 }))).toBeUndefined();
  });
});
