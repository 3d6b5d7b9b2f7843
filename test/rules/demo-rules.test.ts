import { afterEach, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { indexFarm } from '../../core/farm-index.js';
import { unknownReferences } from '../../rules/references.js';
import { DEMO_CONFIG } from '../helpers/service.js';
import { harness, HOUR, MIN, SEC, T0, type Harness } from './helpers.js';

/**
 * The default rules shipped in config/demo-farm.yaml do what their comments say, on the demo farm itself
 * (fake clock, no network). Values are chosen against the thresholds written in the file.
 */
let h: Harness | undefined;
afterEach(async () => {
  await h?.engine.stop();
  h = undefined;
});

async function demo(): Promise<Harness> {
  h = harness([], { config: loadFarmConfig(DEMO_CONFIG) });
  await h.engine.start();
  return h;
}

const of = (h: Harness, rule: string) => h.alerts().filter((a) => a.rule === rule);
/** The commands an actuator was given (a retry of an unacknowledged one repeats its id and is not counted again). */
const actions = (h: Harness, device: string) =>
  [...new Map(h.commands(device).map((c) => [c.id, c])).values()].map((c) => (c.action === 'set' ? `set ${c.value}` : c.action));

describe('demo farm default rules', () => {
  it('name only zones and devices the demo farm has', () => {
    const config = loadFarmConfig(DEMO_CONFIG);
    const farm = indexFarm(config);
    expect(config.rules.map((r) => [r.id, unknownReferences(r, farm)]).filter(([, u]) => u.length > 0)).toEqual([]);
  });

  it('shed ammonia above 20 ppm for 30 s: spray and fan on and a warning; off again under 15 ppm once 2 min have passed', async () => {
    const h = await demo();
    h.send('shed-1-env', { nh3: 25 });
    h.clock.advance(29 * SEC);
    expect(actions(h, 'shed-1-spray')).toEqual([]);
    h.clock.advance(SEC);
    h.ackAll();
    expect(actions(h, 'shed-1-spray')).toEqual(['on']);
    expect(actions(h, 'shed-1-fan')).toEqual(['on']);
    expect(of(h, 'shed-ammonia')).toMatchObject([{ state: 'raised', severity: 'warning', message: 'Ammonia 25 ppm in shed-1' }]);
    h.send('shed-1-env', { nh3: 18 }); // between 15 and 20: still on
    h.send('shed-1-env', { nh3: 12 });
    expect(of(h, 'shed-ammonia').map((a) => a.state)).toEqual(['raised', 'cleared']);
    h.clock.advance(119 * SEC);
    expect(actions(h, 'shed-1-fan')).toEqual(['on']); // minOn: 2 min from switching on
    h.clock.advance(SEC);
    expect(actions(h, 'shed-1-fan')).toEqual(['on', 'off']);
    expect(actions(h, 'shed-1-spray')).toEqual(['on', 'off']);
  });

  it('heat stress by THI band: fans on and shutters open, one alert escalating moderate -> severe -> extreme and back', async () => {
    const h = await demo();
    const levels = () => of(h, 'shed-heat-stress').map((a) => `${a.state}:${a.level}`);
    // THI = t - (0.31 - 0.31 RH/100)(t - 14.4), Marai et al. 2007; at 80 %RH: 23.5 °C -> 22.94, 24 °C -> 23.40, 27 °C -> 26.22.
    const climate = (t: number) => {
      h.send('shed-2-env', { temperature: t, humidity: 80 });
      h.clock.advance(MIN);
      h.send('shed-2-env', { temperature: t, humidity: 80 });
      h.ackAll();
    };
    climate(23.5);
    expect(levels()).toEqual(['raised:moderate']);
    expect(actions(h, 'shed-2-fan')).toEqual(['on']);
    expect(actions(h, 'shed-2-shutter')).toEqual(['set 100']);
    climate(24);
    climate(27);
    expect(levels()).toEqual(['raised:moderate', 'escalated:severe', 'escalated:extreme']);
    expect(of(h, 'shed-heat-stress').at(-1)).toMatchObject({ severity: 'critical' });
    climate(24);
    expect(levels().at(-1)).toBe('escalated:severe');
    expect(of(h, 'shed-heat-stress').at(-1)!.message).toMatch(/de-escalated to severe/);
    climate(20);
    expect(levels().at(-1)).toMatch(/^cleared/);
    h.clock.advance(5 * MIN); // minOn 5 min
    expect(actions(h, 'shed-2-fan')).toEqual(['on', 'off']);
    expect(actions(h, 'shed-2-shutter')).toEqual(['set 100', 'off']);
  });

  it('a dry field opens its irrigation valve after 5 min under 20 % and closes it above 28 %', async () => {
    const h = await demo();
    h.send('field-1-soil', { soil_moisture: 18 });
    h.clock.advance(5 * MIN);
    h.ackAll();
    expect(actions(h, 'field-1-valve')).toEqual(['on']);
    h.send('field-1-soil', { soil_moisture: 25 });
    expect(actions(h, 'field-1-valve')).toEqual(['on']);
    h.send('field-1-soil', { soil_moisture: 29 });
    expect(actions(h, 'field-1-valve')).toEqual(['on', 'off']);
  });

  it('pipe fill grades: yellow above 50 %, orange above 70 %, red above 85 %, as one alert', async () => {
    const h = await demo();
    for (const fill of [55, 75, 90, 40]) h.send('pipe-03-level', { fill });
    expect(of(h, 'drain-fill').map((a) => `${a.state}:${a.level}:${a.severity}`)).toEqual([
      'raised:yellow:info',
      'escalated:orange:warning',
      'escalated:red:critical',
      'cleared:red:critical',
    ]);
    expect(new Set(of(h, 'drain-fill').map((a) => a.id)).size).toBe(1);
  });

  it('hourly rain at a gauge grades blue to red as it gets heavier and back down as the rain leaves the hour', async () => {
    const h = await demo();
    // 6 mm every 5 min for 50 min (72 mm/h), then dry.
    for (let i = 0; i < 10; i++) {
      h.clock.set(T0 + i * 5 * MIN);
      h.send('rain-1-gauge', { rain_mm: 6 });
    }
    for (let t = T0 + 50 * MIN; t <= T0 + 2 * HOUR; t += MIN) {
      h.clock.set(t);
      if (t % (5 * MIN) === 0) h.send('rain-1-gauge', { rain_mm: 0 });
    }
    const hourly = of(h, 'rainstorm-1h');
    expect(hourly.map((a) => `${a.state}:${a.level}`)).toEqual([
      'raised:blue',
      'escalated:yellow',
      'escalated:orange',
      'escalated:red',
      'escalated:orange',
      'escalated:yellow',
      'escalated:blue',
      'cleared:blue',
    ]);
    expect(hourly[0]).toMatchObject({ device: 'rain-1-gauge', value: 24, ts: T0 + 15 * MIN });
    expect(new Set(hourly.map((a) => a.id)).size).toBe(1);
    // The same rain also reached the CMA 3 h orange signal (50 mm in 3 h).
    expect(of(h, 'rainstorm-3h')[0]).toMatchObject({ state: 'raised', level: 'orange' });
  });

  it('long-term high water: a pipe above 60 % for 6 h raises the silting alert only when no gauge saw rain', async () => {
    const run = async (rainAtGauge2: number) => {
      const h = await demo();
      for (let t = T0; t <= T0 + 7 * HOUR; t += 10 * MIN) {
        h.clock.set(t);
        for (const g of ['rain-1-gauge', 'rain-2-gauge', 'rain-3-gauge']) h.send(g, { rain_mm: g === 'rain-2-gauge' && t === T0 + 2 * HOUR ? rainAtGauge2 : 0 });
        h.send('pipe-05-level', { fill: 66 });
      }
      const alerts = of(h, 'drain-long-high-water');
      await h.engine.stop();
      return alerts;
    };
    const dry = await run(0);
    expect(dry).toMatchObject([{ state: 'raised', device: 'pipe-05-level', ts: T0 + 6 * HOUR }]);
    expect(dry[0].message).toMatch(/without rain/);
    // 4 mm at one gauge 2 h in: rain explains the water until it leaves the 6 h window at 8 h.
    expect(await run(4)).toEqual([]);
  });

  it('a silent sensor raises "sensor offline" after 10 min, and a silent shed runs its fans as its fail-safe', async () => {
    const h = await demo();
    for (let t = T0; t <= T0 + 10 * MIN; t += MIN) {
      h.clock.set(t);
      for (const d of ['shed-2-env', 'shed-3-env', 'shed-4-env']) h.send(d, { temperature: 18 });
    }
    const offline = of(h, 'sensor-stale').filter((a) => a.device?.startsWith('shed-'));
    expect(offline).toMatchObject([{ device: 'shed-1-env', state: 'raised', message: 'shed-1-env has sent nothing for 10 min (sensor offline)' }]);
    expect(h.commands('shed-1-fan')).toMatchObject([{ action: 'on', reason: 'failsafe:shed-1' }]);
    expect(h.commands('shed-2-fan')).toEqual([]);
    expect(of(h, 'system:failsafe')).toMatchObject([{ zone: 'shed-1', severity: 'critical' }]);
  });
});
