import { describe, expect, it } from 'vitest';
import { applied, createEntry, decide, desired, expireManual, hold, release, reported, setMode, type LedgerEntry } from '../../rules/actuators.js';
import type { Holder } from '../../rules/holders.js';

const MIN = 60_000;
const rule = (id: string, instance = `${id}|huyang/shed-1/env`): Holder => ({ kind: 'rule', rule: id, instance });
const ops: Holder = { kind: 'operator', user: 'ops' };
const failsafe: Holder = { kind: 'failsafe', site: 'huyang', zone: 'shed-1' };
const holderIds = (e: LedgerEntry) => [...e.holds.values()].map((h) => (h.holder.kind === 'rule' ? h.holder.rule : h.holder.kind));

/** Applies whatever the ledger decides, as the engine does, and returns the decision. */
function step(e: LedgerEntry, now: number) {
  const d = decide(e, now);
  if (d.kind === 'command') applied(e, d, now);
  return d;
}

describe('actuator ledger', () => {
  it('counts references: a fan held by two rules stays on until both let go', () => {
    const fan = createEntry('shed-1-fan');
    hold(fan, rule('nh3'), { action: 'on' });
    expect(step(fan, 0)).toMatchObject({ kind: 'command', action: 'on', holder: rule('nh3') });
    hold(fan, rule('heat'), { action: 'on' });
    expect(step(fan, 1)).toEqual({ kind: 'none' });
    release(fan, rule('nh3'));
    expect(step(fan, 2)).toEqual({ kind: 'none' }); // heat still holds it
    expect(holderIds(fan)).toEqual(['heat']);
    release(fan, rule('heat'));
    expect(step(fan, 3)).toMatchObject({ kind: 'command', action: 'off' });
  });

  it('on wins over off and over set; set holders give the highest value; fail-safe outranks them all', () => {
    const fan = createEntry('fan');
    hold(fan, rule('a'), { action: 'set', value: 40 });
    hold(fan, rule('b'), { action: 'set', value: 70 });
    hold(fan, rule('c'), { action: 'off' });
    expect(desired(fan)).toMatchObject({ action: 'set', value: 70, holder: rule('b') });
    hold(fan, rule('d'), { action: 'on' });
    expect(desired(fan)).toMatchObject({ action: 'on', holder: rule('d') });
    hold(fan, failsafe, { action: 'off' });
    expect(desired(fan)).toMatchObject({ action: 'off', holder: failsafe });
  });

  it('keeps an actuator on for minOn and off for minOff, deferring the change until then', () => {
    const spray = createEntry('spray');
    hold(spray, rule('nh3'), { action: 'on', minOnMs: 2 * MIN, minOffMs: 5 * MIN });
    step(spray, 0);
    release(spray, rule('nh3'));
    expect(step(spray, MIN)).toEqual({ kind: 'defer', until: 2 * MIN });
    expect(step(spray, 2 * MIN)).toMatchObject({ kind: 'command', action: 'off' });
    hold(spray, rule('nh3'), { action: 'on', minOnMs: 2 * MIN, minOffMs: 5 * MIN });
    expect(step(spray, 3 * MIN)).toEqual({ kind: 'defer', until: 7 * MIN });
    expect(step(spray, 7 * MIN)).toMatchObject({ kind: 'command', action: 'on' });
  });

  it('a set value change while running is not held back by minOn', () => {
    const fan = createEntry('fan');
    hold(fan, rule('a'), { action: 'set', value: 40, minOnMs: 10 * MIN });
    step(fan, 0);
    hold(fan, rule('b'), { action: 'set', value: 80 });
    expect(step(fan, MIN)).toMatchObject({ kind: 'command', action: 'set', value: 80 });
  });

  it('in manual mode decides nothing; when manual expires the operator hold ends and the rules decide again', () => {
    const fan = createEntry('fan');
    hold(fan, rule('heat'), { action: 'on' });
    setMode(fan, 'manual', 10 * MIN, 'ops');
    hold(fan, ops, { action: 'set', value: 30 });
    expect(decide(fan, 0)).toEqual({ kind: 'none' });
    expect(expireManual(fan, 9 * MIN)).toBe(false);
    expect(expireManual(fan, 10 * MIN)).toBe(true);
    expect(fan.mode).toBe('auto');
    expect(holderIds(fan)).toEqual(['heat']);
    expect(decide(fan, 10 * MIN)).toMatchObject({ kind: 'command', action: 'on' });
  });

  it('starts from the state the actuator reported, so a fan already on is not switched on again', () => {
    const fan = createEntry('fan');
    reported(fan, { action: 'on' }, 0);
    hold(fan, rule('a'), { action: 'on' });
    expect(decide(fan, 1)).toEqual({ kind: 'none' });
  });
});
