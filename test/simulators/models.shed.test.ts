import { describe, expect, it } from 'vitest';
import * as shed from '../../simulators/models/shed.js';
import { createRng } from '../../simulators/models/rng.js';
import type { Outdoor } from '../../simulators/models/weather.js';
import { METRICS } from '../../core/metrics-catalog.js';

const warmDay: Outdoor = { temperatureC: 26, humidityPct: 60, solarWm2: 600, windMs: 2, rainMmPerHour: 0 };

/** Runs the shed for `minutes` with fixed inputs, one-minute steps. */
function run(state: shed.ShedState, inputs: Partial<shed.ShedInputs>, minutes = 60): shed.ShedState {
  const full: shed.ShedInputs = { outdoor: warmDay, fanSpeedsPct: [], sprayOn: false, shutterOpenPct: 20, ...inputs };
  let s = state;
  for (let i = 0; i < minutes; i++) s = shed.step(s, full, 60);
  return s;
}

const start = () =>
  shed.initialState(shed.defaultShedParams(200), createRng(1), { temperatureC: 28, nh3Ppm: 12, h2sPpm: 0.5, co2Ppm: 1800, daysSinceCleaning: 30 });

describe('sheep shed model', () => {
  it('fans lower NH3, temperature and CO2 against no fans over the same hour', () => {
    const still = run(start(), {});
    const fanned = run(start(), { fanSpeedsPct: [100] });
    expect(fanned.nh3Ppm).toBeLessThan(still.nh3Ppm * 0.6);
    expect(fanned.temperatureC).toBeLessThan(still.temperatureC - 0.5);
    expect(fanned.co2Ppm).toBeLessThan(still.co2Ppm);
  });

  it('a faster fan clears more than a slow one', () => {
    expect(run(start(), { fanSpeedsPct: [100] }).nh3Ppm).toBeLessThan(run(start(), { fanSpeedsPct: [30] }).nh3Ppm);
  });

  it('fans cool less when the outdoor air is hot', () => {
    const cool = run(start(), { fanSpeedsPct: [100], outdoor: { ...warmDay, temperatureC: 20 } });
    const hot = run(start(), { fanSpeedsPct: [100], outdoor: { ...warmDay, temperatureC: 36 } });
    expect(hot.temperatureC).toBeGreaterThan(cool.temperatureC + 10);
  });

  it('the deodorising spray knocks NH3 and H2S down and raises humidity', () => {
    const dry = run(start(), {});
    const sprayed = run(start(), { sprayOn: true });
    expect(sprayed.nh3Ppm).toBeLessThan(dry.nh3Ppm * 0.8);
    expect(sprayed.h2sPpm).toBeLessThan(dry.h2sPpm);
    expect(shed.humidityPct(sprayed)).toBeGreaterThan(shed.humidityPct(dry) + 3);
  });

  it('open shutters exchange more air and let in more sun', () => {
    const closed = run(start(), { shutterOpenPct: 0 });
    const open = run(start(), { shutterOpenPct: 100 });
    expect(open.nh3Ppm).toBeLessThan(closed.nh3Ppm);
    expect(open.lightLux).toBeGreaterThan(closed.lightLux * 2);
    const p = shed.defaultShedParams(200);
    const base = { outdoor: warmDay, fanSpeedsPct: [], sprayOn: false };
    expect(shed.airExchangeM3h(p, { ...base, shutterOpenPct: 100 })).toBeGreaterThan(shed.airExchangeM3h(p, { ...base, shutterOpenPct: 0 }) * 3);
  });

  it('NH3 builds up with the flock and with time since cleaning', () => {
    const flock = (heads: number, days: number) =>
      run(
        shed.initialState(shed.defaultShedParams(heads, { floorAreaM2: 300 }), createRng(1), { nh3Ppm: 0, daysSinceCleaning: days }),
        { shutterOpenPct: 0 },
        240,
      );
    expect(flock(300, 10).nh3Ppm).toBeGreaterThan(flock(100, 10).nh3Ppm * 2);
    expect(flock(200, 40).nh3Ppm).toBeGreaterThan(flock(200, 2).nh3Ppm * 1.5);
  });

  it('the animals warm the shed above the outdoor air', () => {
    const night = { ...warmDay, solarWm2: 0, temperatureC: 20 };
    const full = run(shed.initialState(shed.defaultShedParams(300), createRng(1), { temperatureC: 20 }), { outdoor: night }, 240);
    const empty = run(shed.initialState(shed.defaultShedParams(300, { headCount: 0 }), createRng(1), { temperatureC: 20 }), { outdoor: night }, 240);
    expect(full.temperatureC).toBeGreaterThan(empty.temperatureC + 1);
  });

  it('sensor readings stay inside the plausible ranges and are rounded like a real sensor', () => {
    const rng = createRng(3);
    let s = start();
    for (let i = 0; i < 200; i++) {
      s = shed.step(s, { outdoor: warmDay, fanSpeedsPct: [i % 2 ? 100 : 0], sprayOn: i % 3 === 0, shutterOpenPct: i % 100 }, 60);
      const r = shed.read(s, rng);
      for (const [name, value] of Object.entries(r)) {
        expect(value).toBeGreaterThanOrEqual(METRICS[name].min);
        expect(value).toBeLessThanOrEqual(METRICS[name].max);
      }
      expect(Number.isInteger(r.co2)).toBe(true);
    }
  });
});
