import { describe, expect, it } from 'vitest';
import { reasonOf } from '../../rules/actuators.js';
import { formatReason, holderKey, parseReason, type CommandReason } from '../../rules/holders.js';

describe('holders and command reasons', () => {
  it('every reason form reads back as what was written', () => {
    const reasons: CommandReason[] = [
      { kind: 'rule', rule: 'shed-ammonia' },
      { kind: 'operator', user: 'ops.night-1' },
      { kind: 'failsafe', zone: 'shed-1' },
      { kind: 'auto', cause: 'drift' },
      { kind: 'auto', cause: 'manual-ended' },
      { kind: 'auto', cause: 'hold-ended' },
    ];
    expect(reasons.map(formatReason)).toEqual([
      'rule:shed-ammonia',
      'manual:ops.night-1',
      'failsafe:shed-1',
      'auto:drift',
      'auto:manual-ended',
      'auto:hold-ended',
    ]);
    for (const r of reasons) expect(parseReason(formatReason(r))).toEqual(r);
  });

  it('a reason outside the contract reads as nothing', () => {
    for (const text of ['auto', 'auto:whatever', 'rule:', ':x', 'operator:ops', 'failsafe', '']) expect(parseReason(text)).toBeUndefined();
  });

  it('a command for a holder names the rule, not its instance; holders of one rule on two sensors stay apart', () => {
    const a = { kind: 'rule', rule: 'shed-heat', instance: 'shed-heat|huyang/shed-1/env-a' } as const;
    const b = { kind: 'rule', rule: 'shed-heat', instance: 'shed-heat|huyang/shed-1/env-b' } as const;
    expect(holderKey(a)).not.toBe(holderKey(b));
    expect(reasonOf({ ...a, want: { action: 'on' }, since: 0, metric: null, reading: null })).toEqual({ kind: 'rule', rule: 'shed-heat' });
    expect(formatReason(reasonOf({ kind: 'failsafe', site: 'huyang', zone: 'shed-1', want: { action: 'on' }, since: 0 }))).toBe('failsafe:shed-1');
    // A floor's commands are for the rule that put it in force: no reason form of its own.
    expect(
      formatReason(reasonOf({ kind: 'floor', site: 'huyang', zone: 'shed-1', floor: 'min-vent', rule: 'shed-ammonia', want: { action: 'on' }, since: 0 })),
    ).toBe('rule:shed-ammonia');
  });
});
