import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFarmSimulation, type SimMessage, type SimOutput } from '../../simulators/farm-sim.js';
import { loadFarmConfig } from '../../core/config/load.js';
import { demoLikeFarm, farm, fieldZone, gaugeZone, localTime, pipeZone, shedZone, sumpZone } from './fixtures.js';

const start = localTime(10);
const isReading = (m: SimOutput): m is SimMessage => m.channel === 'telemetry' && typeof m.payload === 'object';
const metricsOf = (m: SimOutput | undefined) => (m && isReading(m) ? (m.payload as { metrics: Record<string, number> }).metrics : {});
const sim = (f = demoLikeFarm(), extra: Partial<Parameters<typeof createFarmSimulation>[0]> = {}) =>
  createFarmSimulation({ farm: f, scenario: 'normal-day', seed: 1, startTs: start, reportEverySec: 60, ...extra });

describe('farm simulation', () => {
  it('maps each zone of the farm file to a model from its kind, devices and attributes', () => {
    const s = sim();
    expect(s.zone('huyang', 'shed-1')?.kind).toBe('shed');
    expect(s.zone('tianmu', 'field-1')?.kind).toBe('field');
    expect(s.zone('xihu-drain', 'pipe-a')?.kind).toBe('pipe');
    expect(s.zone('xihu-drain', 'pump-station')?.kind).toBe('sump');
    expect(s.zone('xihu-drain', 'gauge-1')?.kind).toBe('none');
    const c = s.zone('xihu-drain', 'pipe-c');
    expect(c?.kind === 'pipe' && c.state.params.blockage).toBe(0.7);
    const b = s.zone('xihu-drain', 'pipe-b');
    expect(b?.kind === 'pipe' && b.state.params.diameterM).toBe(1);
    expect(s.warnings).toEqual([]);
  });

  it('reads shed head count from the zone attributes', () => {
    const s = sim(farm({ h: [shedZone(1, { headCount: 320, areaM2: 600 })] }));
    const z = s.zone('h', 'shed-1');
    expect(z?.kind === 'shed' && z.state.params).toMatchObject({ headCount: 320, floorAreaM2: 600 });
  });

  it('every sensor reports on schedule with a SPEC reading: ts in simulated epoch ms and only its configured metrics', () => {
    const s = sim();
    const out = s.advance(600);
    const readings = out.filter((m) => m.channel === 'telemetry');
    const sensors = s.devices().filter((d) => d.role === 'sensor');
    for (const d of sensors) expect(readings.filter((m) => m.device === d.device)).toHaveLength(10);
    const env = readings.find((m) => m.device === 'shed-1-env')!;
    expect(env).toMatchObject({ site: 'huyang', zone: 'shed-1' });
    const payload = env.channel === 'telemetry' && (env.payload as { ts: number; metrics: Record<string, number> });
    expect(payload && Object.keys(payload.metrics).sort()).toEqual(['co2', 'h2s', 'humidity', 'nh3', 'temperature']);
    expect(payload && payload.ts).toBeGreaterThanOrEqual(start);
    expect(payload && payload.ts).toBeLessThanOrEqual(start + 600_000);
    const gauge = readings.find((m) => m.device === 'gauge-1-rain');
    expect(gauge?.channel === 'telemetry' && Object.keys((gauge.payload as { metrics: object }).metrics)).toEqual(['rain_mm']);
    expect(s.now()).toBe(start + 600_000);
  });

  it('simulated time runs at any pace: one call can play a whole day', () => {
    const s = sim(undefined, { reportEverySec: 900 });
    const out = s.advance(86_400);
    expect(out.filter((m) => m.device === 'shed-1-env')).toHaveLength(96);
    expect(s.finished()).toBe(true);
  });

  it('actuators start from the scenario, acknowledge commands with their state, and the zone feels them', () => {
    const s = sim();
    expect(s.initialStates().find((m) => m.device === 'shed-1-shutter')?.payload).toMatchObject({ state: 'on', value: 30 });
    const ack = s.command('shed-1-fan', JSON.stringify({ id: 'cmd-1', action: 'set', value: 60, reason: 'manual:ops', ts: 1 }));
    expect(ack).toMatchObject({
      device: 'shed-1-fan',
      site: 'huyang',
      zone: 'shed-1',
      channel: 'state',
      payload: { state: 'on', value: 60, ack: 'cmd-1', ts: s.now() },
    });
    expect(s.command('shed-1-fan', Buffer.from(JSON.stringify({ id: 'cmd-2', action: 'off', reason: 'rule:x', ts: 2 })))?.payload).toMatchObject({
      state: 'off',
      value: 0,
      ack: 'cmd-2',
    });
    expect(s.command('shed-1-fan', 'not json')).toBeUndefined();
    expect(s.command('shed-1-fan', JSON.stringify({ id: 'c', action: 'explode' }))).toBeUndefined();
    expect(s.command('shed-1-env', JSON.stringify({ id: 'c', action: 'on' }))).toBeUndefined();
  });

  it('a fan commanded on lowers the NH3 its shed sensor reads, against the same shed without it', () => {
    const nh3After = (fanOn: boolean) => {
      const s = sim(farm({ h: [shedZone(1)] }), { scenario: 'ammonia-buildup' });
      if (fanOn) s.command('shed-1-fan', JSON.stringify({ id: 'a', action: 'on', reason: 'manual:ops', ts: 0 }));
      const last = s
        .advance(3600)
        .filter((m) => m.device === 'shed-1-env')
        .at(-1)!;
      return (last.channel === 'telemetry' && (last.payload as { metrics: { nh3: number } }).metrics.nh3) as number;
    };
    expect(nh3After(true)).toBeLessThan(10);
    expect(nh3After(false)).toBeGreaterThan(30);
  });

  it('irrigation through the valve raises the soil moisture the field sensor reads', () => {
    const s = sim(farm({ f: [fieldZone(1), fieldZone(2)] }));
    s.command('field-1-valve', JSON.stringify({ id: 'v', action: 'on', reason: 'rule:field-dry', ts: 0 }));
    const out = s.advance(3600).filter(isReading);
    const last = (d: string) => metricsOf(out.filter((m) => m.device === d).at(-1)).soil_moisture;
    expect(last('field-1-soil')).toBeGreaterThan(last('field-2-soil') + 2);
  });

  it('routes upstream outflow into the downstream pipe and warns about unknown zones', () => {
    const f = farm({
      d: [
        pipeZone('up', { diameter_mm: 600 }),
        pipeZone('down', { diameter_mm: 1000, upstream: 'up, nowhere' }),
        pipeZone('side', { downstream: 'down' }),
        sumpZone('sump'),
      ],
    });
    const s = sim(f, { scenario: 'typhoon' });
    expect(s.warnings).toEqual([expect.stringContaining('"nowhere"')]);
    s.advance(3 * 3600);
    const up = s.zone('d', 'up');
    const down = s.zone('d', 'down');
    expect(up?.kind === 'pipe' && down?.kind === 'pipe' && down.state.outflowM3s).toBeGreaterThan(up?.kind === 'pipe' ? up.state.outflowM3s : Infinity);
  });

  it('faults on demand go to the named device, or to the first free one of the right role', () => {
    const s = sim(farm({ g: [gaugeZone('g1'), gaugeZone('g2'), shedZone(1)] }), {
      faults: [{ kind: 'dropout' }, { kind: 'stuck', device: 'g2-rain' }, { kind: 'never-ack' }],
    });
    expect(s.faults.map((f) => [f.kind, f.device])).toEqual([
      ['dropout', 'g1-rain'],
      ['stuck', 'g2-rain'],
      ['never-ack', 'shed-1-fan'],
    ]);
    expect(s.advance(600).filter((m) => m.device === 'g1-rain')).toEqual([]);
  });

  it.runIf(existsSync('config/demo-farm.yaml'))('runs the bundled demo farm: every device is mapped and every sensor reports its metrics', () => {
    const demo = loadFarmConfig('config/demo-farm.yaml');
    const s = createFarmSimulation({ farm: demo, scenario: 'normal-day', seed: 1, startTs: start, reportEverySec: 60 });
    expect(s.warnings).toEqual([]);
    const out = s.advance(300);
    for (const site of demo.sites)
      for (const z of site.zones) {
        if (z.kind === 'drain' && z.devices.some((d) => d.role === 'sensor' && d.metrics?.some((m) => m !== 'rain_mm')))
          expect(s.zone(site.id, z.id)?.kind).toMatch(/pipe|sump/);
        for (const d of z.devices.filter((dd) => dd.role === 'sensor')) {
          const metrics = Object.keys(metricsOf(out.find((o) => o.device === d.id && isReading(o))));
          expect(metrics.sort(), d.id).toEqual([...(d.metrics ?? metrics)].sort());
        }
      }
  });
});
