import { describe, expect, it } from 'vitest';
import { FarmConfig } from '../../core/config/schema.js';
import type { Reading } from '../../core/domain.js';
import { indexFarm } from '../../core/farm-index.js';
import { compileRule } from '../../rules/compile.js';
import { withDerivedMetrics } from '../../rules/derived.js';
import { evaluate, type ActuatorReport, type RuleEffect, type RuleState } from '../../rules/evaluate.js';
import { createInstanceSet } from '../../rules/instances.js';
import { Rules } from '../../rules/schema.js';
import { HOUR, MIN } from './helpers.js';

/**
 * Conditions beyond a value against a threshold: what an actuator is doing, heat load as degree-hours, samples of
 * some hours of the local day only, and a level against the device's own learned dry-weather pattern.
 * The farm is in Asia/Shanghai (UTC+8): local midnight is 16:00 UTC.
 */
const LOCAL_MIDNIGHT = Date.UTC(2024, 6, 1, 16); // 2 July 2024 00:00 in Hangzhou
const DAY = 24 * HOUR;

const config = FarmConfig.parse({
  sites: [
    {
      id: 'farm',
      timezone: 'Asia/Shanghai',
      zones: [
        {
          id: 'shed',
          kind: 'shed',
          attributes: { animalGroup: 'lambs' },
          devices: [
            { id: 'shed-env', role: 'sensor', secret: 'dev-only-secret' },
            { id: 'shed-fan', role: 'actuator', type: 'fan' },
            { id: 'shed-fan-2', role: 'actuator', type: 'fan' },
          ],
        },
        { id: 'pipe', kind: 'drain', attributes: { type: 'pipe', diameterM: 0.8 }, devices: [{ id: 'pipe-level', role: 'sensor', secret: 'dev-only-secret' }] },
        { id: 'gauge', kind: 'drain', attributes: { type: 'rain-gauge' }, devices: [{ id: 'gauge-1', role: 'sensor', secret: 'dev-only-secret' }] },
      ],
    },
  ],
});
const farm = indexFarm(config);

function only(raw: Record<string, unknown>): { st: RuleState; set: ReturnType<typeof createInstanceSet> } {
  const set = createInstanceSet(farm, () => undefined);
  const [def] = Rules.parse([{ actions: [{ alert: { severity: 'warning' } }], ...raw }]);
  const states = set.add(compileRule(def), LOCAL_MIDNIGHT);
  expect(states).toHaveLength(1);
  return { st: states[0], set };
}
function send(set: ReturnType<typeof createInstanceSet>, device: string, metrics: Record<string, number>, at: number): RuleEffect[] {
  const d = farm.device(device)!;
  const r: Reading = withDerivedMetrics({ site: d.site, zone: d.zone, kind: d.kind, device, ts: at, metrics });
  return set.route(r, at).flatMap((st) => evaluate(st, { type: 'reading', reading: r }, at).effects);
}
const fan = (device: string, on: boolean): ActuatorReport => ({ site: 'farm', zone: 'shed', device, type: 'fan', on });
const kinds = (effects: RuleEffect[]) => effects.map((e) => (e.level ? `${e.kind}:${e.level}` : e.kind));

describe('actuator conditions', () => {
  it('"a fan on for 20 min while NH3 is not falling" holds only after the fan has run 20 min without a break', () => {
    const { st, set } = only({
      id: 'ventilation-ineffective',
      scope: { kind: 'shed' },
      when: {
        all: [
          { actuator: 'fan', is: 'on', for: '20m' },
          { metric: 'nh3', window: '20m', agg: 'rate', atLeast: 0 },
        ],
      },
    });
    const t = LOCAL_MIDNIGHT;
    for (let m = 0; m <= 40; m += 5) send(set, 'shed-env', { nh3: 25 }, t + m * MIN);
    expect(st.active).toBe(false); // NH3 flat, but no fan on
    expect(evaluate(st, { type: 'actuator', report: fan('shed-fan', true) }, t + 40 * MIN).effects).toEqual([]);
    expect(evaluate(st, { type: 'tick' }, t + 59 * MIN).effects).toEqual([]);
    // the other fan of the zone going off does not break "a fan is on"
    evaluate(st, { type: 'actuator', report: fan('shed-fan-2', false) }, t + 50 * MIN);
    expect(kinds(evaluate(st, { type: 'tick' }, t + 60 * MIN).effects)).toEqual(['fired']);
    expect(kinds(evaluate(st, { type: 'actuator', report: fan('shed-fan', false) }, t + 61 * MIN).effects)).toEqual(['cleared']);
  });

  it('a report of an actuator of another zone or type is not watched', () => {
    const { st } = only({ id: 'x', scope: { kind: 'shed' }, when: { actuator: 'fan', is: 'on' } });
    expect(evaluate(st, { type: 'actuator', report: { site: 'farm', zone: 'pipe', device: 'p', type: 'fan', on: true } }, LOCAL_MIDNIGHT).effects).toEqual([]);
    expect(evaluate(st, { type: 'actuator', report: { ...fan('shed-fan', true), type: 'spray' } }, LOCAL_MIDNIGHT).effects).toEqual([]);
    expect(kinds(evaluate(st, { type: 'actuator', report: fan('shed-fan', true) }, LOCAL_MIDNIGHT).effects)).toEqual(['fired']);
  });
});

describe('degree-hours and hours of the day', () => {
  it("THI-hours above the zone group's comfort limit add up over 24 h (lambs: 21.2)", () => {
    const { st, set } = only({
      id: 'heat-load',
      scope: { kind: 'shed' },
      when: { metric: 'thi', window: '24h', agg: 'degreeHours', base: { zone: 'thiComfort' }, atLeast: 13.5 },
    });
    expect(st.specs[0].base).toBe(21.2);
    // THI 24.58 (3.38 above comfort) for 4 h is 13.52 THI-hours: fires when the 4th hour is complete, on a tick
    const thi24 = { temperature: 25.5, humidity: 73.4 };
    const thi = withDerivedMetrics({ site: 'farm', zone: 'shed', kind: 'shed', device: 'shed-env', ts: 0, metrics: thi24 }).metrics.thi;
    expect(thi).toBe(24.58);
    const t = LOCAL_MIDNIGHT;
    for (let m = 0; m < 240; m += 10) expect(send(set, 'shed-env', thi24, t + m * MIN)).toEqual([]);
    const effects = evaluate(st, { type: 'tick' }, t + 240 * MIN).effects;
    expect(kinds(effects)).toEqual(['fired']);
    expect(effects[0].value).toBeCloseTo((thi - 21.2) * 4, 1);
  });

  it('"no night-time recovery": the coolest THI of the night hours (22:00-06:00 local) stayed above comfort', () => {
    const { st, set } = only({
      id: 'no-recovery',
      scope: { kind: 'shed' },
      when: { metric: 'thi', window: '24h', hours: { from: '22:00', to: '06:00' }, agg: 'min', atLeast: { zone: 'thiComfort' } },
    });
    const warm = { temperature: 27, humidity: 85 }; // THI 26.4
    const cool = { temperature: 18, humidity: 60 }; // THI 17.6
    const t = LOCAL_MIDNIGHT - 2 * HOUR; // 22:00 local
    // A warm night, then a day with a cool afternoon (14:00 local: not night, it does not count). Nothing is judged
    // until the window has been watched for (95 % of) its 24 h: the first evening after a start is not a night.
    const effects: RuleEffect[] = [];
    for (let h = 0; h <= 23; h++) effects.push(...send(set, 'shed-env', h === 16 ? cool : warm, t + h * HOUR));
    expect(kinds(effects)).toEqual(['fired']);
    expect(effects[0].ts).toBe(t + 23 * HOUR); // 21:00 local, the first sample 22.8 h after the first
    expect(st.active).toBe(true);
    // a cool hour the next night (03:00 local) is recovery
    expect(kinds(send(set, 'shed-env', cool, t + 29 * HOUR))).toEqual(['cleared']);
  });
});

describe('baseline: departure from the learned dry-weather level', () => {
  const rule = {
    id: 'silting',
    scope: { attributes: { type: 'pipe' } },
    when: { metric: 'water_level', baseline: { days: 14, minDays: 7, dryAfter: '24h', rain: ['gauge-1'] }, atLeast: 0.1, clearBelow: 0.05, for: '6h' },
  };
  /** A sewage-like daily rhythm: low at night, peaks at 08:00 and 20:00 local. */
  const dryLevel = (ts: number) => {
    const hour = ((ts - LOCAL_MIDNIGHT) / HOUR) % 24;
    return 0.12 + 0.04 * Math.max(0, Math.cos(((hour - 8) * Math.PI) / 6)) + 0.04 * Math.max(0, Math.cos(((hour - 20) * Math.PI) / 6));
  };

  function learnDays(set: ReturnType<typeof createInstanceSet>, days: number, rainDay?: number): number {
    const end = LOCAL_MIDNIGHT + days * DAY;
    for (let t = LOCAL_MIDNIGHT; t < end; t += 15 * MIN) {
      const raining = rainDay !== undefined && t >= LOCAL_MIDNIGHT + rainDay * DAY + 14 * HOUR && t < LOCAL_MIDNIGHT + rainDay * DAY + 16 * HOUR;
      send(set, 'gauge-1', { rain_mm: raining ? 4 : 0 }, t);
      expect(send(set, 'pipe-level', { water_level: dryLevel(t) + (raining ? 0.5 : 0) }, t)).toEqual([]);
    }
    return end;
  }

  it('learns each hour of the day, judges nothing before 7 dry days, then flags a pipe holding water', () => {
    const { st, set } = only(rule);
    // 10 days with a storm on day 3: from the storm to a day after it is not dry weather and is not learned (nor is
    // the first day, before a whole dry day was watched), which leaves 7 learned days for 14:00-16:00
    const end = learnDays(set, 10, 3);
    expect(st.active).toBe(false);
    // the morning peak is normal: nothing fires at 08:00 with the usual level
    expect(send(set, 'pipe-level', { water_level: dryLevel(end + 8 * HOUR) }, end + 8 * HOUR)).toEqual([]);
    // silt holds 0.45 m more: after 6 h above the learned level + 0.1 m it fires, the value saying how far above
    const effects: RuleEffect[] = [];
    for (let t = end + 9 * HOUR; t <= end + 16 * HOUR; t += 15 * MIN) {
      send(set, 'gauge-1', { rain_mm: 0 }, t);
      effects.push(...send(set, 'pipe-level', { water_level: dryLevel(t) + 0.45 }, t));
    }
    expect(kinds(effects)).toEqual(['fired']);
    expect(effects[0].ts).toBe(end + 15 * HOUR);
    expect(effects[0].value).toBeCloseTo(0.45, 2);
  });

  it('rain neither raises nor clears it: the level is judged again only a dry day after the rain', () => {
    const { st, set } = only(rule);
    let t = learnDays(set, 8);
    for (const end = t + 8 * HOUR; t < end; t += 15 * MIN) send(set, 'pipe-level', { water_level: dryLevel(t) + 0.45 }, t);
    expect(st.active).toBe(true);
    send(set, 'gauge-1', { rain_mm: 2 }, t);
    // rain washes the pipe's level down and up again: the alert stays as it is
    for (const end = t + 20 * HOUR; t < end; t += 15 * MIN) expect(send(set, 'pipe-level', { water_level: 0.05 }, t)).toEqual([]);
    expect(st.active).toBe(true);
    // a dry day later the pipe is back at its usual level (dredged): it clears
    for (const end = t + 6 * HOUR; t < end; t += 15 * MIN) send(set, 'pipe-level', { water_level: dryLevel(t) }, t);
    expect(st.active).toBe(false);
  });
});
