import { describe, expect, it } from 'vitest';
import { FarmConfig } from '../../core/config/schema.js';
import type { Reading } from '../../core/domain.js';
import { indexFarm } from '../../core/farm-index.js';
import { dewPointC, wetBulbC } from '../../core/psychrometrics.js';
import { ppmToMgM3 } from '../../core/gas-units.js';
import { compileRule } from '../../rules/compile.js';
import { withDerivedMetrics } from '../../rules/derived.js';
import { evaluate, type RuleEffect, type RuleState } from '../../rules/evaluate.js';
import { createInstanceSet } from '../../rules/instances.js';
import { unknownReferences } from '../../rules/references.js';
import { Rule, Rules } from '../../rules/schema.js';
import { MIN, reading, SEC, stateFor, T0 } from './helpers.js';

/** Inclusive thresholds, zone-valued thresholds, attribute scopes, derived air metrics and gas units. */
const read = (st: RuleState, device: string, metrics: Record<string, number>, at: number): RuleEffect[] =>
  evaluate(st, { type: 'reading', reading: withDerivedMetrics(reading(device, metrics, at)) }, at).effects;
const kinds = (effects: RuleEffect[]) => effects.map((e) => (e.level ? `${e.kind}:${e.level}` : e.kind));

describe('atLeast / atMost', () => {
  it('atLeast fires at exactly the threshold, where above does not (above keeps its old meaning)', () => {
    const inclusive = stateFor({ id: 'a', when: { metric: 'nh3', atLeast: 20 } }, 'shed-1-env');
    const strict = stateFor({ id: 'b', when: { metric: 'nh3', above: 20 } }, 'shed-1-env');
    expect(kinds(read(inclusive, 'shed-1-env', { nh3: 20 }, T0))).toEqual(['fired']);
    expect(kinds(read(strict, 'shed-1-env', { nh3: 20 }, T0))).toEqual([]);
    expect(kinds(read(inclusive, 'shed-1-env', { nh3: 19.9 }, T0 + SEC))).toEqual(['cleared']);
  });

  it('exactly 50.0 mm in 3 h from 0.2 mm gauge tips raises the ≥ 50 mm signal (float sums are forgiven)', () => {
    const st = stateFor(
      {
        id: 'rain',
        when: {
          metric: 'rain_mm',
          window: '3h',
          agg: 'sum',
          levels: [
            { name: 'orange', atLeast: 50 },
            { name: 'red', atLeast: 100 },
          ],
        },
      },
      'rg-1',
    );
    const effects: RuleEffect[] = [];
    for (let i = 0; i < 250; i++) effects.push(...read(st, 'rg-1', { rain_mm: 0.2 }, T0 + i * 30 * SEC));
    let plain = 0;
    for (let i = 0; i < 250; i++) plain += 0.2;
    expect(plain).not.toBe(50); // the float sum really is off
    expect(kinds(effects)).toEqual(['fired:orange']);
    expect(effects[0].ts).toBe(T0 + 249 * 30 * SEC);
  });

  it('atMost holds at the threshold and clearAbove gives it hysteresis', () => {
    const st = stateFor({ id: 'dry', when: { metric: 'humidity', atMost: 80, clearAbove: 85 } }, 'shed-1-env');
    expect(kinds([80, 84, 85, 85.1, 81, 80].flatMap((h, i) => read(st, 'shed-1-env', { humidity: h }, T0 + i * MIN)))).toEqual(['fired', 'cleared', 'fired']);
  });

  it('the schema refuses two thresholds, a clear threshold on the wrong side, and clearBelow with atMost', () => {
    const problems = (when: unknown) => {
      const r = Rule.safeParse({ id: 'x', when, actions: [{ alert: { severity: 'info' } }] });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ metric: 'nh3', above: 20, atLeast: 20 })).toEqual([expect.stringMatching(/^when.atLeast: use one of above, below, atLeast or atMost/)]);
    expect(problems({ metric: 'nh3', atLeast: 20, clearBelow: 25 })).toEqual([
      expect.stringMatching(/^when.clearBelow: clearBelow \(25\) must not exceed atLeast \(20\)/),
    ]);
    expect(problems({ metric: 'nh3', atMost: 20, clearBelow: 15 })).toEqual([expect.stringMatching(/clearBelow goes with above or atLeast/)]);
    expect(
      problems({
        metric: 'fill',
        levels: [
          { name: 'a', atLeast: 50 },
          { name: 'b', atLeast: 40 },
        ],
      }),
    ).toEqual([expect.stringMatching(/^when.levels.1.atLeast: list levels from mildest to worst/)]);
    expect(problems({ metric: 'thi', window: '24h', agg: 'degreeHours', atLeast: 10 })).toEqual([
      expect.stringMatching(/^when.base: agg degreeHours needs a base/),
    ]);
  });
});

/** A drainage site whose pipes carry their own attributes. */
const drainFarm = () =>
  FarmConfig.parse({
    sites: [
      {
        id: 'city',
        timezone: 'Asia/Shanghai',
        zones: [
          {
            id: 'sewer-300',
            kind: 'drain',
            attributes: { type: 'pipe', sewer: 'sewage', diameterM: 0.3 },
            devices: [{ id: 'p300', role: 'sensor', secret: 'dev-only-secret' }],
          },
          {
            id: 'sewer-800',
            kind: 'drain',
            attributes: { type: 'pipe', sewer: 'sewage', diameterM: 0.8 },
            devices: [{ id: 'p800', role: 'sensor', secret: 'dev-only-secret' }],
          },
          {
            id: 'storm-1200',
            kind: 'drain',
            attributes: { type: 'pipe', sewer: 'storm', diameterM: 1.2 },
            devices: [{ id: 'p1200', role: 'sensor', secret: 'dev-only-secret' }],
          },
          {
            id: 'sump',
            kind: 'drain',
            attributes: { type: 'sump', depthM: 4, startLevelM: 2.8 },
            devices: [{ id: 'sump-level', role: 'sensor', secret: 'dev-only-secret' }],
          },
        ],
      },
    ],
  });

function instances(raw: unknown) {
  const config = drainFarm();
  const farm = indexFarm(config);
  const set = createInstanceSet(farm, () => undefined);
  const [def] = Rules.parse([raw]);
  return { farm, set, states: set.add(compileRule(def), T0) };
}
const levelAt = (farm: ReturnType<typeof indexFarm>, st: RuleState, device: string, metrics: Record<string, number>, at: number) => {
  const d = farm.device(device)!;
  const r: Reading = { site: d.site, zone: d.zone, kind: d.kind, device, ts: at, metrics };
  return evaluate(st, { type: 'reading', reading: r }, at).effects;
};

describe('thresholds from zone values', () => {
  const pipeGrades = {
    id: 'pipe-level',
    scope: { attributes: { type: 'pipe' } },
    when: {
      metric: 'water_level',
      levels: [
        { name: 'design', atLeast: { zone: 'designDepthM' }, clearBelow: { zone: 'designDepthM', plus: -0.05 } },
        { name: 'full', atLeast: { zone: 'diameterM' } },
      ],
    },
    actions: [{ alert: { severity: 'warning' } }],
  };

  it('each pipe gets its own limits: GB 50014 design fill by diameter for sewage pipes, full for storm pipes', () => {
    const { states, set } = instances(pipeGrades);
    const limits = Object.fromEntries(states.map((s) => [s.zone, s.specs[0].levels.map((l) => [l.enter, l.clear])]));
    expect(limits['sewer-300']).toEqual([
      [0.165, 0.115],
      [0.3, 0.3],
    ]); // 0.55 × 0.3 m
    expect(limits['sewer-800']).toEqual([
      [0.56, 0.51],
      [0.8, 0.8],
    ]); // 0.70 × 0.8 m
    // Not the sump (scope.attributes). A storm pipe's design depth is its diameter, so its two levels coincide:
    // the zone is refused, and said so, rather than graded out of order.
    expect(Object.keys(limits).sort()).toEqual(['sewer-300', 'sewer-800']);
    expect(set.problems('pipe-level')).toEqual([{ site: 'city', zone: 'storm-1200', problem: 'level full (1.2) is not beyond design (1.2)' }]);
  });

  it('a zone that lacks a value the rule names gets no instance, and readings there reach no rule', () => {
    const { states, set, farm } = instances({
      id: 'sump-start',
      scope: { site: 'city' },
      when: { metric: 'water_level', atLeast: { zone: 'startLevelM' } },
      actions: [{ alert: { severity: 'info' } }],
    });
    expect(states.map((s) => s.zone)).toEqual(['sump']);
    const d = farm.device('p800')!;
    expect(set.route({ site: d.site, zone: d.zone, kind: d.kind, device: 'p800', ts: T0, metrics: { water_level: 3 } }, T0)).toEqual([]);
    expect(kinds(levelAt(farm, states[0], 'sump-level', { water_level: 2.8 }, T0))).toEqual(['fired']);
  });
});

describe('derived air metrics and gas units', () => {
  it('dew point by Magnus and wet-bulb by Stull 2011 (his worked example: 20 °C, 50 % -> 13.7 °C)', () => {
    expect(wetBulbC(20, 50)).toBeCloseTo(13.7, 1);
    expect(dewPointC(20, 50)).toBeCloseTo(9.26, 1);
    expect(dewPointC(25, 100)).toBeCloseTo(25, 5);
    const r = withDerivedMetrics(reading('shed-1-env', { temperature: 30, humidity: 80 }, T0));
    expect(r.metrics).toMatchObject({ thi: 29.03, dew_point: 26.17, wet_bulb: 27.13 });
  });

  it('ppm to mg/m³ at 20 °C and 101.325 kPa: the GBZ 2.1 H2S limit of 10 mg/m³ is about 7 ppm', () => {
    expect(ppmToMgM3('h2s', 7.06)).toBe(10);
    expect(ppmToMgM3('nh3', 20)).toBe(14.2);
    expect(ppmToMgM3('co2', 1000)).toBeUndefined();
  });
});

describe('references', () => {
  it('a baseline naming a rain gauge the farm does not have is reported, like any other unknown device', () => {
    const [def] = Rules.parse([
      { id: 'silt', when: { metric: 'water_level', baseline: { rain: ['rain-9-gauge'] }, atLeast: 0.1 }, actions: [{ alert: { severity: 'warning' } }] },
    ]);
    expect(unknownReferences(def, indexFarm(drainFarm()))).toEqual(['when: device "rain-9-gauge"']);
  });
});
