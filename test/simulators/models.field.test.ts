import { describe, expect, it } from 'vitest';
import * as field from '../../simulators/models/field.js';
import { createRng } from '../../simulators/models/rng.js';
import type { Outdoor } from '../../simulators/models/weather.js';

const sunny: Outdoor = { temperatureC: 30, humidityPct: 50, solarWm2: 800, windMs: 2, rainMmPerHour: 0 };
const start = () => field.initialState(field.defaultFieldParams(), createRng(1), { soilMoisturePct: 22 });

function run(s: field.FieldState, inputs: Partial<field.FieldInputs>, minutes: number): field.FieldState {
  for (let i = 0; i < minutes; i++) s = field.step(s, { outdoor: sunny, irrigationPct: 0, ...inputs }, 60);
  return s;
}

describe('field model', () => {
  it('irrigation raises soil moisture against the same hour without it', () => {
    const dry = run(start(), {}, 60);
    const watered = run(start(), { irrigationPct: 100 }, 60);
    expect(watered.soilMoisturePct).toBeGreaterThan(dry.soilMoisturePct + 2);
    expect(watered.irrigatedMm).toBeCloseTo(8, 5);
  });

  it('soil dries in the sun by evapotranspiration and not at night', () => {
    const initial = start().soilMoisturePct;
    const day = run(start(), {}, 360);
    const night = run(start(), { outdoor: { ...sunny, solarWm2: 0, temperatureC: 20 } }, 360);
    expect(day.soilMoisturePct).toBeLessThan(initial - 1);
    expect(night.soilMoisturePct).toBeCloseTo(initial, 5);
    // Sunny summer day in East China: ET of a few mm over six hours (FAO-56 ranges 4–7 mm/day).
    expect(day.etMm).toBeGreaterThan(2);
    expect(day.etMm).toBeLessThan(6);
  });

  it('rain wets the soil, and water above field capacity drains away over hours', () => {
    const rained = run(start(), { outdoor: { ...sunny, solarWm2: 100, rainMmPerHour: 30 } }, 60);
    expect(rained.soilMoisturePct).toBeGreaterThan(30);
    const after = run(rained, { outdoor: { ...sunny, solarWm2: 0 } }, 12 * 60);
    expect(after.soilMoisturePct).toBeLessThan(rained.soilMoisturePct);
    expect(after.soilMoisturePct).toBeGreaterThan(field.defaultFieldParams().wiltingPointPct);
  });

  it('soil temperature follows the air with a lag', () => {
    const s = run(field.initialState(field.defaultFieldParams(), createRng(1), { soilTemperatureC: 18 }), {}, 30);
    expect(s.soilTemperatureC).toBeGreaterThan(18);
    expect(s.soilTemperatureC).toBeLessThan(sunny.temperatureC);
  });
});
