import { describe, expect, it } from 'vitest';
import { withDerivedMetrics } from '../../rules/derived.js';
import { adoptActive, evaluate, type RuleEffect, type RuleState } from '../../rules/evaluate.js';
import { HOUR, MIN, reading, SEC, stateFor, T0 } from './helpers.js';

/** Feeds one reading to a rule instance at time `at` and returns the effects. */
function read(st: RuleState, device: string, metrics: Record<string, number>, at: number): RuleEffect[] {
  return evaluate(st, { type: 'reading', reading: withDerivedMetrics(reading(device, metrics, at)) }, at).effects;
}
function tick(st: RuleState, at: number): RuleEffect[] {
  return evaluate(st, { type: 'tick' }, at).effects;
}
const kinds = (effects: RuleEffect[]) => effects.map((e) => (e.level ? `${e.kind}:${e.level}` : e.kind));

describe('above / below with hysteresis', () => {
  it('a value hovering around the threshold fires once and does not chatter until it falls below clearBelow', () => {
    const st = stateFor({ id: 'nh3', when: { metric: 'nh3', above: 20, clearBelow: 15 } }, 'shed-1-env');
    const values = [18, 21, 19.5, 20.5, 19, 21, 16, 20.1, 15.5, 14.9, 16, 19.9];
    const effects = values.flatMap((v, i) => read(st, 'shed-1-env', { nh3: v }, T0 + i * 10 * SEC));
    expect(kinds(effects)).toEqual(['fired', 'cleared']);
    expect(effects[0]).toMatchObject({ kind: 'fired', value: 21, ts: T0 + 10 * SEC });
    expect(effects[1]).toMatchObject({ kind: 'cleared', value: 14.9 });
  });

  it('without clearBelow it clears as soon as the value is back under the threshold', () => {
    const st = stateFor({ id: 'nh3', when: { metric: 'nh3', above: 20 } }, 'shed-1-env');
    const effects = [21, 19, 21].flatMap((v, i) => read(st, 'shed-1-env', { nh3: v }, T0 + i * SEC));
    expect(kinds(effects)).toEqual(['fired', 'cleared', 'fired']);
  });

  it('below with clearAbove: dry soil fires below 20 % and clears only above 25 %', () => {
    const st = stateFor({ id: 'dry', when: { metric: 'soil_moisture', below: 20, clearAbove: 25 } }, 'shed-1-env');
    const effects = [22, 19, 21, 24, 26].flatMap((v, i) => read(st, 'shed-1-env', { soil_moisture: v }, T0 + i * MIN));
    expect(kinds(effects)).toEqual(['fired', 'cleared']);
    expect(effects[1].value).toBe(26);
  });

  it('ignores readings of other devices and of other metrics', () => {
    const st = stateFor({ id: 'nh3', when: { metric: 'nh3', above: 20 } }, 'shed-1-env');
    expect(read(st, 'shed-2-env', { nh3: 50 }, T0)).toEqual([]);
    expect(read(st, 'shed-1-env', { temperature: 50 }, T0)).toEqual([]);
    expect(st.active).toBe(false);
  });
});

describe('for / clearFor', () => {
  const when = { metric: 'nh3', above: 20, for: '30s', clearBelow: 15, clearFor: '1m' };

  it('fires only after the condition held for the whole `for`, even with no new reading', () => {
    const st = stateFor({ id: 'nh3', when }, 'shed-1-env');
    expect(read(st, 'shed-1-env', { nh3: 25 }, T0)).toEqual([]);
    expect(tick(st, T0 + 29 * SEC)).toEqual([]);
    expect(kinds(tick(st, T0 + 30 * SEC))).toEqual(['fired']);
  });

  it('starts the `for` timer over when the condition breaks', () => {
    const st = stateFor({ id: 'nh3', when }, 'shed-1-env');
    read(st, 'shed-1-env', { nh3: 25 }, T0);
    read(st, 'shed-1-env', { nh3: 18 }, T0 + 20 * SEC); // broken (not above 20)
    read(st, 'shed-1-env', { nh3: 25 }, T0 + 25 * SEC);
    expect(tick(st, T0 + 50 * SEC)).toEqual([]); // 30 s since T0, but only 25 s unbroken
    expect(kinds(tick(st, T0 + 55 * SEC))).toEqual(['fired']);
  });

  it('clears only after the value stayed under clearBelow for clearFor, restarting when it rises again', () => {
    const st = stateFor({ id: 'nh3', when }, 'shed-1-env');
    read(st, 'shed-1-env', { nh3: 25 }, T0);
    tick(st, T0 + 30 * SEC);
    expect(st.active).toBe(true);
    read(st, 'shed-1-env', { nh3: 10 }, T0 + 1 * MIN);
    expect(tick(st, T0 + 1 * MIN + 50 * SEC)).toEqual([]);
    read(st, 'shed-1-env', { nh3: 17 }, T0 + 1 * MIN + 55 * SEC); // back over clearBelow: the clear timer resets
    read(st, 'shed-1-env', { nh3: 12 }, T0 + 2 * MIN);
    expect(tick(st, T0 + 2 * MIN + 59 * SEC)).toEqual([]);
    expect(kinds(tick(st, T0 + 3 * MIN))).toEqual(['cleared']);
  });
});

describe('window + agg', () => {
  it('raises a rainstorm warning on 1 h rainfall and clears it as the rain ages out of the window', () => {
    const st = stateFor({ id: 'rain-1h', when: { metric: 'rain_mm', window: '1h', agg: 'sum', above: 30 } }, 'rg-1');
    const effects: RuleEffect[] = [];
    for (let i = 0; i < 8; i++) effects.push(...read(st, 'rg-1', { rain_mm: 5 }, T0 + i * 5 * MIN)); // 40 mm in 35 min
    expect(kinds(effects)).toEqual(['fired']);
    expect(effects[0]).toMatchObject({ value: 35, ts: T0 + 30 * MIN });
    // Rain stops: the sum falls below 30 when enough of it is older than an hour.
    for (let t = T0 + 36 * MIN; t <= T0 + 2 * HOUR; t += MIN) effects.push(...tick(st, t));
    expect(kinds(effects)).toEqual(['fired', 'cleared']);
    expect(effects[1].ts).toBe(T0 + HOUR + 10 * MIN); // the first three 5 mm have left: 25 mm remain
  });

  it('grades rainfall over several windows: 1 h, 3 h, 6 h, 12 h and 24 h rules each see their own sum', () => {
    const windows = ['1h', '3h', '6h', '12h', '24h'];
    const states = windows.map((w) => stateFor({ id: `rain-${w}`, when: { metric: 'rain_mm', window: w, agg: 'sum', above: 50 } }, 'rg-1'));
    const fired = new Map<string, number>();
    for (let h = 0; h < 24; h++) {
      for (const [i, st] of states.entries()) {
        for (const e of read(st, 'rg-1', { rain_mm: 9 }, T0 + h * HOUR)) if (e.kind === 'fired') fired.set(windows[i], h);
      }
    }
    // 9 mm an hour: 1 h never reaches 50; 3 h never (27); 6 h at the 6th hour (54); 12 h and 24 h at the 6th too.
    expect(Object.fromEntries(fired)).toEqual({ '6h': 5, '12h': 5, '24h': 5 });
  });

  it('uses mean, max, min and rate like any value', () => {
    const rising = stateFor({ id: 'rise', when: { metric: 'water_level', window: '30m', agg: 'rate', above: 1 } }, 'pipe-1-level');
    read(rising, 'pipe-1-level', { water_level: 1 }, T0);
    expect(kinds(read(rising, 'pipe-1-level', { water_level: 1.2 }, T0 + 10 * MIN))).toEqual(['fired']); // 1.2 m/h
    const hot = stateFor({ id: 'hot', when: { metric: 'temperature', window: '10m', agg: 'mean', above: 30 } }, 'shed-1-env');
    expect(read(hot, 'shed-1-env', { temperature: 35 }, T0)).toHaveLength(1);
    expect(kinds(read(hot, 'shed-1-env', { temperature: 20 }, T0 + MIN))).toEqual(['cleared']); // mean 27.5
  });
});

describe('graded levels', () => {
  const when = {
    metric: 'fill',
    levels: [
      { name: 'yellow', above: 50, severity: 'warning' },
      { name: 'orange', above: 70, clearBelow: 65, severity: 'warning' },
      { name: 'red', above: 85, severity: 'critical' },
    ],
  };

  it('one alert escalates and de-escalates, each change an event with its level', () => {
    const st = stateFor({ id: 'fill', when }, 'pipe-1-level');
    const values = [40, 55, 75, 90, 80, 60, 45];
    const effects = values.flatMap((v, i) => read(st, 'pipe-1-level', { fill: v }, T0 + i * MIN));
    expect(kinds(effects)).toEqual(['fired:yellow', 'escalated:orange', 'escalated:red', 'deescalated:orange', 'deescalated:yellow', 'cleared']);
    expect(effects[2].severity).toBe('critical');
  });

  it('a level with clearBelow holds while the value hovers at its boundary', () => {
    const st = stateFor({ id: 'fill', when }, 'pipe-1-level');
    const effects = [72, 69, 71, 66, 69, 64].flatMap((v, i) => read(st, 'pipe-1-level', { fill: v }, T0 + i * MIN));
    expect(kinds(effects)).toEqual(['fired:orange', 'deescalated:yellow']);
  });

  it('jumps straight to the worst level crossed', () => {
    const st = stateFor({ id: 'fill', when }, 'pipe-1-level');
    expect(kinds(read(st, 'pipe-1-level', { fill: 95 }, T0))).toEqual(['fired:red']);
  });
});

describe('sustained conditions', () => {
  // Long-term high water in dry weather: silting or blockage (SPEC "Who uses it").
  const when = {
    all: [
      { metric: 'fill', above: 60, for: '6h', clearBelow: 50 },
      { metric: 'rain_mm', device: 'rg-1', window: '6h', agg: 'sum', below: 1 },
    ],
  };

  it('fires after 6 h above 60 % with no rain, and waits for the rain to leave the window when it rained', () => {
    const dry = stateFor({ id: 'silting', when }, 'pipe-1-level');
    const wet = stateFor({ id: 'silting', when }, 'pipe-1-level');
    const firedAt = (st: RuleState, rainAt?: number) => {
      for (let t = T0; t <= T0 + 12 * HOUR; t += 10 * MIN) {
        const effects = [...read(st, 'rg-1', { rain_mm: t === rainAt ? 5 : 0 }, t), ...read(st, 'pipe-1-level', { fill: 65 }, t)];
        if (effects.some((e) => e.kind === 'fired')) return (t - T0) / HOUR;
      }
      return undefined;
    };
    expect(firedAt(dry)).toBe(6);
    expect(firedAt(wet, T0 + 3 * HOUR)).toBe(9); // the 5 mm at 3 h stays in the 6 h window until 9 h
  });
});

describe('derived thi, all / any, schedule', () => {
  it('computes thi from temperature and humidity and uses it like a measured metric', () => {
    const st = stateFor({ id: 'heat', when: { metric: 'thi', above: 25.6 } }, 'shed-1-env');
    // THI = 30 - (0.31 - 0.31*0.8)*(30 - 14.4) = 29.03 (Marai et al. 2007): extreme heat stress.
    const effects = read(st, 'shed-1-env', { temperature: 30, humidity: 80 }, T0);
    expect(effects[0]).toMatchObject({ kind: 'fired', metric: 'thi' });
    expect(effects[0].value).toBeCloseTo(29.03, 2);
    expect(read(st, 'shed-1-env', { temperature: 18 }, T0 + MIN)).toEqual([]); // no humidity: no thi
  });

  it('all needs every condition, any needs one', () => {
    const all = stateFor(
      {
        id: 'muggy',
        when: {
          all: [
            { metric: 'temperature', above: 28 },
            { metric: 'humidity', above: 80 },
          ],
        },
      },
      'shed-1-env',
    );
    const any = stateFor(
      {
        id: 'bad-air',
        when: {
          any: [
            { metric: 'nh3', above: 20 },
            { metric: 'h2s', above: 5 },
          ],
        },
      },
      'shed-1-env',
    );
    expect(read(all, 'shed-1-env', { temperature: 30, humidity: 70 }, T0)).toEqual([]);
    expect(kinds(read(all, 'shed-1-env', { temperature: 30, humidity: 85 }, T0 + MIN))).toEqual(['fired']);
    expect(kinds(read(any, 'shed-1-env', { nh3: 5, h2s: 6 }, T0))).toEqual(['fired']);
    expect(read(any, 'shed-1-env', { nh3: 25, h2s: 1 }, T0 + MIN)).toEqual([]); // still one holds
    expect(kinds(read(any, 'shed-1-env', { nh3: 5, h2s: 1 }, T0 + 2 * MIN))).toEqual(['cleared']);
  });

  it("a schedule follows the site's zone, not the server's: a Zhejiang farm's night rule runs 22:00-06:00 Beijing time", () => {
    // Beijing time is UTC+8 all year: 22:00 on Monday 3 June 2024 is 14:00 UTC.
    const at = (h: number, m = 0) => Date.UTC(2024, 5, 3, h - 8, m);
    const st = stateFor({ id: 'night', when: { metric: 'temperature', above: 25 }, schedule: { from: '22:00', to: '06:00' } }, 'shed-1-env', at(20));
    expect(read(st, 'shed-1-env', { temperature: 30 }, at(21))).toEqual([]);
    expect(kinds(tick(st, at(22)))).toEqual(['fired']);
    expect(tick(st, at(23, 59))).toEqual([]);
    expect(tick(st, at(24 + 5, 59))).toEqual([]);
    expect(kinds(tick(st, at(24 + 6)))).toEqual(['cleared']);
  });

  it('a schedule keeps to the wall clock across a DST change (Europe/Berlin, clocks back on 27 October 2024)', () => {
    // 22:00 CEST on Saturday 26 October is 20:00 UTC; 06:00 CET on Sunday is 05:00 UTC: a 9-hour night.
    const st = stateFor(
      { id: 'night', when: { metric: 'fill', above: 50 }, schedule: { from: '22:00', to: '06:00', days: ['sat'] } },
      'pipe-1-level',
      Date.UTC(2024, 9, 26, 12),
    );
    expect(read(st, 'pipe-1-level', { fill: 80 }, Date.UTC(2024, 9, 26, 19, 59))).toEqual([]);
    expect(kinds(tick(st, Date.UTC(2024, 9, 26, 20)))).toEqual(['fired']);
    expect(tick(st, Date.UTC(2024, 9, 27, 4, 59))).toEqual([]);
    expect(kinds(tick(st, Date.UTC(2024, 9, 27, 5)))).toEqual(['cleared']);
    // Not on Sunday night (days: [sat]).
    expect(tick(st, Date.UTC(2024, 9, 27, 21, 30))).toEqual([]);
  });
});

describe('the value an effect reports', () => {
  it('of an any: rule is the sub-condition that fired, and clearing it reports the same metric at its clearing value', () => {
    const st = stateFor(
      {
        id: 'surcharge',
        when: {
          any: [
            { metric: 'water_level', above: 3 },
            { metric: 'flow', above: 800 },
          ],
        },
      },
      'pipe-1-level',
    );
    const effects = [...read(st, 'pipe-1-level', { water_level: 1, flow: 900 }, T0), ...read(st, 'pipe-1-level', { water_level: 1, flow: 700 }, T0 + SEC)];
    expect(effects.map((e) => [e.kind, e.metric, e.value])).toEqual([
      ['fired', 'flow', 900],
      ['cleared', 'flow', 700],
    ]);
  });

  it('of an all: rule that breaks is the sub-condition that broke', () => {
    const st = stateFor(
      {
        id: 'dry-high',
        when: {
          all: [
            { metric: 'fill', above: 60 },
            { metric: 'flow', below: 100 },
          ],
        },
      },
      'pipe-1-level',
    );
    const effects = [...read(st, 'pipe-1-level', { fill: 65, flow: 50 }, T0), ...read(st, 'pipe-1-level', { fill: 65, flow: 300 }, T0 + SEC)];
    expect(effects.map((e) => [e.kind, e.metric, e.value])).toEqual([
      ['fired', 'fill', 65],
      ['cleared', 'flow', 300],
    ]);
  });
});

describe('stale', () => {
  it('fires when a device has sent nothing for the stale period and clears on its next reading', () => {
    const st = stateFor({ id: 'offline', when: { stale: '10m' } }, 'shed-1-env');
    expect(tick(st, T0 + 9 * MIN)).toEqual([]);
    expect(kinds(tick(st, T0 + 10 * MIN))).toEqual(['fired']);
    expect(kinds(read(st, 'shed-1-env', { temperature: 20 }, T0 + 11 * MIN))).toEqual(['cleared']);
    expect(tick(st, T0 + 20 * MIN)).toEqual([]);
    expect(kinds(tick(st, T0 + 21 * MIN))).toEqual(['fired']);
  });
});

describe('adopting an open alert', () => {
  it('an adopted instance stays active until its value passes the clear threshold', () => {
    const st = stateFor({ id: 'nh3', when: { metric: 'nh3', above: 20, clearBelow: 15 } }, 'shed-1-env');
    adoptActive(st, undefined, T0);
    expect(read(st, 'shed-1-env', { nh3: 18 }, T0 + MIN)).toEqual([]);
    expect(kinds(read(st, 'shed-1-env', { nh3: 10 }, T0 + 2 * MIN))).toEqual(['cleared']);
  });
});
