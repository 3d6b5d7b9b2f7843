import { describe, expect, it } from 'vitest';
import { ConfigError, parseFarmConfig } from '../../core/config/load.js';
import { unknownReferences } from '../../rules/references.js';
import { Rule, Rules } from '../../rules/schema.js';
import { farm, rule } from './helpers.js';

const site = `sites:\n  - id: huyang\n    zones:\n      - id: shed-1\n        kind: shed\n        devices: []\n`;

describe('rule language schema', () => {
  it('accepts the SPEC example and parses durations to ms', () => {
    const rule = Rule.parse({
      id: 'shed-ammonia',
      description: 'Deodorise and ventilate when ammonia is high',
      scope: { kind: 'shed' },
      when: { metric: 'nh3', above: 20, for: '30s', clearBelow: 15 },
      actions: [
        { actuate: { type: 'spray', action: 'on' } },
        { actuate: { type: 'fan', action: 'on' } },
        { alert: { severity: 'warning', message: 'Ammonia {value} ppm in {zone}' } },
      ],
      minOn: '2m',
    });
    expect(rule).toMatchObject({ enabled: true, per: 'device', minOn: 120_000, when: { for: 30_000 } });
  });

  it('names the field that is wrong inside nested all / any, not just "Invalid input"', () => {
    const result = Rules.safeParse([
      {
        id: 'a',
        when: { all: [{ metric: 'fill', above: 60 }, { any: [{ metric: 'rain_mm', window: '1h', agg: 'sum', abov: 3 }] }] },
        actions: [{ alert: { severity: 'info' } }],
      },
    ]);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain('0.when.all.1.any.0');
    expect(result.error!.issues.map((i) => i.message).join(' ')).toMatch(/abov/);
  });

  it('rejects unknown metrics, bad durations, levels out of order and mismatched hysteresis', () => {
    const problems = (when: unknown) =>
      Rule.safeParse({ id: 'x', when, actions: [{ alert: { severity: 'info' } }] }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(problems({ metric: 'nh4', above: 1 })).toEqual([expect.stringMatching(/^when.metric: unknown metric/)]);
    expect(problems({ metric: 'nh3', above: 1, for: '30 minutes' })).toEqual([expect.stringMatching(/^when.for: .*not a duration/)]);
    expect(
      problems({
        metric: 'fill',
        levels: [
          { name: 'red', above: 85 },
          { name: 'yellow', above: 50 },
        ],
      }),
    ).toEqual([expect.stringMatching(/^when.levels.1.above: list levels from mildest/)]);
    expect(problems({ metric: 'nh3', above: 20, clearBelow: 25 })).toEqual([expect.stringMatching(/^when.clearBelow/)]);
    expect(problems({ metric: 'rain_mm', window: '1h', above: 30 })).toEqual([expect.stringMatching(/^when.agg: window and agg go together/)]); // agg is the one missing;
    expect(problems({ metric: 'thi', above: 25.6 })).toEqual([]);
  });

  it('refuses two rules with one id, naming the second', () => {
    const result = Rules.safeParse([
      { id: 'nh3', when: { metric: 'nh3', above: 20 }, actions: [{ alert: { severity: 'info' } }] },
      { id: 'nh3', when: { metric: 'nh3', above: 30 }, actions: [{ alert: { severity: 'info' } }] },
    ]);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['1.id', 'rule "nh3": duplicate rule id "nh3": rule ids must be unique']]);
  });

  it('config file errors name the rule by position and id, and the field', () => {
    const yaml = `${site}rules:\n  - id: ok\n    when: { metric: nh3, above: 20 }\n    actions: [{ alert: { severity: warning } }]\n  - id: bad\n    when: { metric: nh3, above: 20 }\n    actions: [{ actuate: { type: fan, action: set } }]\n`;
    try {
      parseFarmConfig(yaml, 'farm.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([{ path: 'rules[1].actions[0].actuate.value', message: 'rule "bad": action set needs a value (0-100)' }]);
    }
  });

  it('finds zone and device ids the farm does not have, which would make a rule silently do nothing', () => {
    const typo = rule({
      id: 'x',
      scope: { site: 'huyang', zone: 'shed-9' },
      when: {
        all: [
          { metric: 'nh3', above: 20 },
          { metric: 'rain_mm', device: 'rg-9', window: '1h', agg: 'sum', below: 1 },
        ],
      },
      actions: [{ actuate: { device: 'shed-1-env', action: 'on' } }],
    });
    expect(unknownReferences(typo, farm)).toEqual(['scope.zone "shed-9"', 'when: device "rg-9"', 'actuate.device "shed-1-env"']);
    expect(unknownReferences(rule({ id: 'ok', scope: { kind: 'shed' }, when: { metric: 'nh3', above: 20 } }), farm)).toEqual([]);
  });
});
