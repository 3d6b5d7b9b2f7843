import { afterEach, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { indexFarm } from '../../core/farm-index.js';
import { unknownReferences } from '../../rules/references.js';
import { DEMO_CONFIG } from '../helpers/service.js';
import { createFakeClock } from './fake-clock.js';
import { harness, HOUR, MIN, SEC, T0, type Harness, type HarnessOptions } from './helpers.js';
import { createMemoryStore } from './memory-store.js';

/**
 * The default rules shipped in config/demo-farm.yaml do what their comments say, on the demo farm itself
 * (fake clock, no network). Values are chosen against the thresholds written in the file.
 */
let h: Harness | undefined;
afterEach(async () => {
  await h?.engine.stop();
  h = undefined;
});

async function demo(options?: HarnessOptions['options']): Promise<Harness> {
  h = harness([], { config: loadFarmConfig(DEMO_CONFIG), options });
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

  it('shed ammonia from 20 ppm for 30 s: fan and spray on and a warning in ppm and mg/m³; off again under 15 ppm once 2 min have passed', async () => {
    const h = await demo();
    h.send('shed-1-env', { nh3: 20, humidity: 70, temperature: 16 }); // exactly 20: atLeast
    h.clock.advance(29 * SEC);
    expect(actions(h, 'shed-1-spray')).toEqual([]);
    h.clock.advance(SEC);
    h.ackAll();
    expect(actions(h, 'shed-1-spray')).toEqual(['on']);
    expect(actions(h, 'shed-1-fan')).toEqual(['on']);
    // 20 ppm NH3 at 20 °C and 101.325 kPa: 20 × 17.031 / 24.06 = 14.2 mg/m³
    expect(of(h, 'shed-ammonia')).toMatchObject([{ state: 'raised', severity: 'warning', message: 'Ammonia 20 ppm (14.2 mg/m³) in shed-1' }]);
    h.send('shed-1-env', { nh3: 18, humidity: 70, temperature: 16 }); // between 15 and 20: still on
    h.send('shed-1-env', { nh3: 12, humidity: 70, temperature: 16 });
    expect(of(h, 'shed-ammonia').map((a) => a.state)).toEqual(['raised', 'cleared']);
    h.clock.advance(119 * SEC);
    expect(actions(h, 'shed-1-fan')).toEqual(['on']); // minOn: 2 min from switching on
    h.clock.advance(SEC);
    expect(actions(h, 'shed-1-fan')).toEqual(['on', 'off']);
    expect(actions(h, 'shed-1-spray')).toEqual(['on', 'off']);
  });

  it('the deodorising spray stays off in a humid (> 85 %RH) or cold (< 8 °C) shed; the fans still run', async () => {
    const h = await demo();
    const climate = (metrics: Record<string, number>) => {
      h.send('shed-2-env', { nh3: 26, ...metrics });
      h.clock.advance(MIN);
      h.send('shed-2-env', { nh3: 26, ...metrics });
      h.ackAll();
    };
    climate({ humidity: 88, temperature: 16 });
    expect(actions(h, 'shed-2-fan')).toEqual(['on']);
    expect(actions(h, 'shed-2-spray')).toEqual([]);
    climate({ humidity: 83, temperature: 16 }); // drier, but not yet down to 80 %RH: hysteresis
    expect(actions(h, 'shed-2-spray')).toEqual([]);
    climate({ humidity: 78, temperature: 16 });
    expect(actions(h, 'shed-2-spray')).toEqual(['on']);
    climate({ humidity: 86, temperature: 16 }); // the spray itself wets the air: above 85 % it stops (after its minOn)
    h.clock.advance(2 * MIN);
    expect(actions(h, 'shed-2-spray')).toEqual(['on', 'off']);
    const cold = await demo();
    cold.send('shed-3-env', { nh3: 26, humidity: 60, temperature: 6 });
    cold.clock.advance(MIN);
    cold.send('shed-3-env', { nh3: 26, humidity: 60, temperature: 6 });
    expect(actions(cold, 'shed-3-fan')).toEqual(['on']);
    expect(actions(cold, 'shed-3-spray')).toEqual([]);
  });

  it('H2S: warning from 5 ppm (ACGIH STEL), critical from 10 ppm (NIOSH ceiling), fans at once, messages in ppm and mg/m³', async () => {
    const h = await demo();
    h.send('shed-4-env', { h2s: 4.9 });
    expect(of(h, 'shed-h2s')).toEqual([]);
    h.send('shed-4-env', { h2s: 5 });
    expect(actions(h, 'shed-4-fan')).toEqual(['on']);
    h.send('shed-4-env', { h2s: 10 });
    expect(of(h, 'shed-h2s').map((a) => `${a.state}:${a.level}:${a.severity}`)).toEqual(['raised:warning:warning', 'escalated:critical:critical']);
    // GBZ 2.1's 10 mg/m³ is 7.1 ppm: 10 ppm is 14.2 mg/m³
    expect(of(h, 'shed-h2s')[1].message).toMatch(/^H2S 10 ppm \(14\.2 mg\/m³\) in shed-4/);
  });

  it("fans and shutters from the animal group's THI comfort limit (ewes 22.2, lambs 21.2), with no alert", async () => {
    const h = await demo();
    // THI = t − (0.31 − 0.31 RH/100)(t − 14.4), Marai et al. 2007; at 80 %RH: 22.5 °C -> 22.0, 23.5 °C -> 22.94
    const climate = (device: string, t: number) => {
      h.send(device, { temperature: t, humidity: 80 });
      h.clock.advance(MIN);
      h.send(device, { temperature: t, humidity: 80 });
      h.ackAll();
    };
    climate('shed-1-env', 22.5); // ewes: under 22.2? no, 22.0: comfortable
    climate('shed-3-env', 22.5); // lambs: 22.0 is above their 21.2
    expect(actions(h, 'shed-1-fan')).toEqual([]);
    expect(actions(h, 'shed-3-fan')).toEqual(['on']);
    expect(actions(h, 'shed-3-shutter')).toEqual(['set 100']);
    climate('shed-1-env', 23.5);
    expect(actions(h, 'shed-1-fan')).toEqual(['on']);
    expect(h.alerts()).toEqual([]);
    climate('shed-1-env', 20);
    expect(actions(h, 'shed-1-fan')).toEqual(['on']); // minOn 10 min: a mild night does not start and stop the fans every half hour
    h.clock.advance(10 * MIN);
    expect(actions(h, 'shed-1-fan')).toEqual(['on', 'off']);
  });

  it('heat stress alert: THI-hours above comfort in 24 h with no cool night while the fans run; one alert, ended by a cool night', async () => {
    const h = await demo({ tickMs: MIN }); // a day and a half of readings: a tick a minute is plenty
    // T0 is 08:00 in Hangzhou. A hot, humid lamb shed day and night (THI 28.55: 7.35 above the lambs' 21.2).
    const hot = { temperature: 30, humidity: 70 };
    for (let t = T0; t <= T0 + 24 * HOUR; t += 10 * MIN) {
      h.clock.set(t);
      h.send('shed-3-env', hot);
      h.ackAll();
    }
    const heat = of(h, 'shed-heat-stress');
    // The night is judged once the 24 h window has been watched (22.8 h): then the load is far past 72 THI-hours.
    expect(heat).toMatchObject([{ state: 'raised', zone: 'shed-3', level: 'extreme', severity: 'critical' }]);
    expect(heat[0].ts).toBeGreaterThanOrEqual(T0 + 22.8 * HOUR);
    expect(heat[0].value).toBeGreaterThan(160);
    expect(heat[0].message).toMatch(/^Heat stress \(extreme\) in shed-3: [\d.]+ THI-hours above comfort in 24 h and no cool night/);
    // the ewes' shed next door at THI 22.0 never raises it
    expect(heat.filter((a) => a.zone !== 'shed-3')).toEqual([]);
    // A cool night (22:00 local is 14:00 UTC, T0 + 38 h): recovery ends the alert.
    for (let t = T0 + 24 * HOUR + 10 * MIN; t <= T0 + 40 * HOUR; t += 10 * MIN) {
      h.clock.set(t);
      h.send('shed-3-env', t >= T0 + 38 * HOUR ? { temperature: 19, humidity: 70 } : hot);
    }
    expect(of(h, 'shed-heat-stress').map((a) => a.state)).toEqual(['raised', 'cleared']);
    expect(of(h, 'shed-heat-stress')[1].ts).toBe(T0 + 38 * HOUR);
  });

  it("a restart keeps the heat-stress alert open: the fans' running time comes back from the command history", async () => {
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    const options = { tickMs: MIN };
    let h: Harness = harness([], { config: loadFarmConfig(DEMO_CONFIG), store, clock, options });
    await h.engine.start();
    const hot = { temperature: 30, humidity: 70 };
    for (let t = T0; t <= T0 + 24 * HOUR; t += 10 * MIN) {
      clock.set(t);
      h.send('shed-3-env', hot);
      h.ackAll();
    }
    expect(of(h, 'shed-heat-stress').map((a) => a.state)).toEqual(['raised']);
    await h.engine.flush();
    await h.engine.stop();
    h = harness([], { config: loadFarmConfig(DEMO_CONFIG), store, clock, options });
    await h.engine.start();
    for (let t = T0 + 24 * HOUR + 10 * MIN; t <= T0 + 26 * HOUR; t += 10 * MIN) {
      clock.set(t);
      h.send('shed-3-env', hot);
    }
    expect(of(h, 'shed-heat-stress')).toEqual([]); // neither cleared nor raised again
    expect(h.engine.activeAlerts().filter((a) => a.rule === 'shed-heat-stress')).toMatchObject([{ zone: 'shed-3', level: 'extreme' }]);
    await h.engine.stop();
  });

  it('ventilation ineffective: fans on for 30 min and ammonia still over the limit and not falling', async () => {
    const h = await demo();
    for (let t = T0; t <= T0 + 45 * MIN; t += 5 * MIN) {
      h.clock.set(t);
      h.send('shed-1-env', { nh3: 24 + (t - T0) / (15 * MIN), humidity: 70, temperature: 16 });
      h.ackAll();
    }
    const alerts = of(h, 'shed-ventilation-ineffective');
    expect(alerts).toMatchObject([{ state: 'raised', severity: 'warning' }]);
    expect(alerts[0].ts).toBe(T0 + 35 * MIN); // the fan went on at 30 s (shed-ammonia's for) and ran 30 min
    expect(alerts[0].message).toMatch(/^Ventilation ineffective in shed-1: fans on for 30 min and ammonia still [\d.]+ ppm \([\d.]+ mg\/m³\), not falling/);
    // falling ammonia (the fans working after all) ends it
    for (let t = T0 + 50 * MIN, v = 26; t <= T0 + 90 * MIN; t += 5 * MIN, v -= 1) {
      h.clock.set(t);
      h.send('shed-1-env', { nh3: v, humidity: 70, temperature: 16 });
    }
    expect(of(h, 'shed-ventilation-ineffective').map((a) => a.state)).toEqual(['raised', 'cleared']);
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

  it('each pipe is graded against its own design: a DN800 sewer from 0.56 m (GB 50014 fill 0.70), a DN1200 storm pipe from full', async () => {
    const h = await demo();
    for (const level of [0.5, 0.56, 0.8, 2.0, 0.4]) h.send('pipe-05-level', { water_level: level, fill: Math.min(100, (level / 0.8) * 100) });
    expect(of(h, 'sewer-level').map((a) => `${a.state}:${a.level}:${a.severity}`)).toEqual([
      'raised:yellow:info',
      'escalated:orange:warning',
      'escalated:red:critical', // within 1 m of the street: invert 3.0 m deep
      'cleared:red:critical',
    ]);
    // 0.9 m in a DN1200 storm pipe is normal (storm pipes are designed to run full): nothing; full is yellow
    for (const level of [0.9, 1.2, 1.7, 1.0]) h.send('pipe-06-level', { water_level: level });
    expect(of(h, 'storm-pipe-level').map((a) => `${a.state}:${a.level}`)).toEqual(['raised:yellow', 'escalated:orange', 'cleared:orange']);
    expect(of(h, 'sewer-level').every((a) => a.device === 'pipe-05-level')).toBe(true);
    // The Chinese text (sent to a zh-CN site's channels) says the grade in Chinese, not "red".
    expect(of(h, 'sewer-level')[2]).toMatchObject({
      message: 'pipe-05-level water level 2 m (red) (escalated to red)',
      messages: { zh: '管道水位 2 m（红色）（升级为红色）' },
    });
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

  it('CMA signals count "≥": exactly 50.0 mm in 3 h of 0.2 mm tips raises orange; the day grades are named as GB/T 28592 names them', async () => {
    const h = await demo({ tickMs: MIN });
    // 0.4 mm every 72 s (20 mm/h): after 125 reports the 3 h sum is exactly 50.0 mm (as floats add it, a hair under)
    for (let i = 0; i < 125; i++) {
      h.clock.set(T0 + i * 72 * SEC);
      h.send('rain-2-gauge', { rain_mm: 0.4 });
    }
    expect(of(h, 'rainstorm-3h')).toMatchObject([
      { state: 'raised', level: 'orange', value: 50, messages: { en: 'Rainstorm orange: 50 mm in 3 h at rain-2-gauge', zh: '暴雨（橙色）：3小时 50 mm' } },
    ]);
    expect(of(h, 'rainfall-24h')).toMatchObject([{ state: 'raised', level: 'rainstorm', severity: 'info' }]);
    expect(of(h, 'rainfall-24h')[0]).toMatchObject({
      message: 'rainstorm (GB/T 28592): 50 mm in 24 h at rain-2-gauge',
      messages: { zh: '24小时降水 50 mm（GB/T 28592：暴雨 ≥ 50、大暴雨 ≥ 100、特大暴雨 ≥ 250 mm）' },
    });
    for (let i = 125; i < 250; i++) {
      h.clock.set(T0 + i * 72 * SEC);
      h.send('rain-2-gauge', { rain_mm: 0.4 });
    }
    expect(of(h, 'rainfall-24h').map((a) => `${a.state}:${a.level}`)).toEqual(['raised:rainstorm', 'escalated:heavy-rainstorm']);
  });

  it("silting: found against the pipe's learned dry-weather level after 6 h, and learned again from the store after a restart", async () => {
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    // Ticks once a minute: days of half-hourly readings with a tick every second would take half a minute.
    const options = { tickMs: MIN };
    let h: Harness = harness([], { config: loadFarmConfig(DEMO_CONFIG), store, clock, options });
    await h.engine.start();
    // A sewer with a morning and an evening peak (local 08:00 and 20:00 are 00:00 and 12:00 UTC).
    const usual = (t: number) => 0.2 + 0.05 * Math.cos(((t - T0) / HOUR) * (Math.PI / 6));
    const halfHours = (from: number, to: number, level: (t: number) => number) => {
      for (let t = from; t < to; t += 30 * MIN) {
        clock.set(t);
        for (const g of ['rain-1-gauge', 'rain-2-gauge', 'rain-3-gauge']) h.send(g, { rain_mm: 0 });
        h.send('pipe-09-level', { water_level: level(t) });
      }
    };
    halfHours(T0, T0 + 8 * 24 * HOUR, usual); // 8 dry days: 7 learned (the first is watched)
    expect(of(h, 'drain-silting')).toEqual([]);
    // Restart: the learned levels come back from the stored readings (up to 16 days of them).
    await h.engine.stop();
    h = harness([], { config: loadFarmConfig(DEMO_CONFIG), store, clock, options });
    await h.engine.start();
    const silted = T0 + 8 * 24 * HOUR;
    halfHours(silted, silted + 7 * HOUR, (t) => usual(t) + 0.3);
    const found = of(h, 'drain-silting');
    expect(found).toMatchObject([{ state: 'raised', device: 'pipe-09-level', severity: 'warning' }]);
    expect(found[0].ts).toBe(silted + 6 * HOUR);
    expect(found[0].value).toBeCloseTo(0.3, 2);
    expect(found[0].message).toMatch(/^pipe-09-level stands 0.3 m above its usual dry-weather level/);
    await h.engine.stop();
    // The same silted day without the learned days before it finds nothing: the state above came from the store.
    const fresh = harness([], { config: loadFarmConfig(DEMO_CONFIG), clock: createFakeClock(silted), options });
    await fresh.engine.start();
    h = fresh;
    halfHours(silted, silted + 7 * HOUR, (t) => usual(t) + 0.3);
    expect(of(fresh, 'drain-silting')).toEqual([]);
  });

  it('the sump pump runs from its start level to its stop level without an alert; high-high and a pump that cannot keep up are alerts', async () => {
    const h = await demo();
    for (const level of [1.5, 2.6]) h.send('sump-1-level', { water_level: level });
    h.ackAll();
    expect(actions(h, 'sump-1-pump')).toEqual(['on']);
    h.clock.advance(3 * MIN);
    for (const level of [2.0, 1.2, 0.9]) h.send('sump-1-level', { water_level: level });
    expect(actions(h, 'sump-1-pump')).toEqual(['on', 'off']);
    expect(h.alerts()).toEqual([]);
    // A storm: the pump runs and the sump still rises 1.2 m/h
    for (let t = h.clock.now(), i = 0; i <= 9; t += 5 * MIN, i++) {
      h.clock.set(t);
      h.send('sump-1-level', { water_level: (26 + i) / 10 });
      h.ackAll();
    }
    expect(of(h, 'pump-ineffective')).toMatchObject([{ state: 'raised', severity: 'critical' }]);
    expect(of(h, 'pump-ineffective')[0].message).toMatch(/^Pump ineffective at sump-1: running for 15 min and the level rises 1\.2 m\/h/);
    expect(of(h, 'sump-high-level')).toMatchObject([{ state: 'raised', severity: 'critical', value: 3.4 }]);
  });

  it('a silent sensor raises "sensor offline" after 10 min, and a silent shed runs its fans as its fail-safe', async () => {
    const h = await demo();
    for (let t = T0; t <= T0 + 10 * MIN; t += MIN) {
      h.clock.set(t);
      for (const d of ['shed-2-env', 'shed-3-env', 'shed-4-env']) h.send(d, { temperature: 18 });
    }
    const offline = of(h, 'sensor-stale').filter((a) => a.device?.startsWith('shed-'));
    // English names the device id; Chinese the farm file's name (the shed's only sensor: the shed).
    expect(offline).toMatchObject([
      {
        device: 'shed-1-env',
        state: 'raised',
        message: 'shed-1-env has sent nothing for 10 min (sensor offline)',
        messages: { zh: '1号羊舍 已10分钟无数据（传感器离线）' },
      },
    ]);
    expect(h.commands('shed-1-fan')).toMatchObject([{ action: 'on', reason: 'failsafe:shed-1' }]);
    expect(h.commands('shed-2-fan')).toEqual([]);
    expect(of(h, 'system:failsafe')).toMatchObject([
      { zone: 'shed-1', severity: 'critical', messages: { zh: '1号羊舍传感器已 10分钟 无数据：失效保护 风机开' } },
    ]);
  });
});
