import { describe, expect, it } from 'vitest';
import {
  applied,
  createEntry,
  decide,
  desired,
  expireHold,
  expireManual,
  hold,
  release,
  reported,
  setMode,
  type Hold,
  type LedgerEntry,
  type Want,
} from '../../rules/actuators.js';

const MIN = 60_000;
const rule = (id: string, want: Want, instance = `${id}|huyang/shed-1/env`): Hold => ({
  kind: 'rule',
  rule: id,
  instance,
  want,
  since: 0,
  metric: null,
  reading: null,
});
const ops = (want: Want, until = 30 * MIN): Hold => ({ kind: 'operator', user: 'ops', want, since: 0, until });
const failsafe = (want: Want): Hold => ({ kind: 'failsafe', site: 'huyang', zone: 'shed-1', want, since: 0 });
const floor = (want: Want): Hold => ({ kind: 'floor', site: 'huyang', zone: 'shed-1', floor: 'min-vent', rule: 'nh3', want, since: 0 });
const on: Want = { action: 'on' };
const off: Want = { action: 'off' };
const ids = (e: LedgerEntry) => [...e.holds.values()].map((h) => (h.kind === 'rule' ? h.rule : h.kind));

/** Applies whatever the ledger decides, as the engine does, and returns the decision. */
function step(e: LedgerEntry, now: number) {
  const d = decide(e, now);
  if (d.kind === 'command') applied(e, d, now);
  return d;
}

describe('actuator ledger', () => {
  it('counts references: a fan held by two rules stays on until both let go', () => {
    const fan = createEntry('shed-1-fan');
    hold(fan, rule('nh3', on));
    expect(step(fan, 0)).toMatchObject({ kind: 'command', action: 'on', hold: { kind: 'rule', rule: 'nh3' } });
    hold(fan, rule('heat', on));
    expect(step(fan, 1)).toEqual({ kind: 'none' });
    release(fan, rule('nh3', on));
    expect(step(fan, 2)).toEqual({ kind: 'none' }); // heat still holds it
    expect(ids(fan)).toEqual(['heat']);
    release(fan, rule('heat', on));
    expect(step(fan, 3)).toMatchObject({ kind: 'command', action: 'off' });
  });

  it('among rules on wins over off and over set, set holders give the highest value', () => {
    const fan = createEntry('fan');
    hold(fan, rule('a', { action: 'set', value: 40 }));
    hold(fan, rule('b', { action: 'set', value: 70 }));
    hold(fan, rule('c', off));
    expect(desired(fan)).toMatchObject({ action: 'set', value: 70, hold: { rule: 'b' } });
    hold(fan, rule('d', on));
    expect(desired(fan)).toMatchObject({ action: 'on', hold: { rule: 'd' } });
  });

  it('precedence: fail-safe over floor over an operator hold over the rules', () => {
    const fan = createEntry('fan');
    hold(fan, rule('nh3', on));
    hold(fan, ops(off));
    expect(desired(fan)).toMatchObject({ action: 'off', hold: { kind: 'operator' } }); // held off by ops, against the rule
    hold(fan, floor(on));
    expect(desired(fan)).toMatchObject({ action: 'on', hold: { kind: 'floor' } }); // minimum ventilation: not below it
    expect(desired(fan, 'floor')).toMatchObject({ action: 'off', hold: { kind: 'operator' } });
    hold(fan, failsafe(off));
    expect(desired(fan)).toMatchObject({ action: 'off', hold: { kind: 'failsafe' } });
  });

  it('keeps an actuator on for minOn and off for minOff, deferring the change until then', () => {
    const spray = createEntry('spray');
    const want = { action: 'on' as const, minOnMs: 2 * MIN, minOffMs: 5 * MIN };
    hold(spray, rule('nh3', want));
    step(spray, 0);
    release(spray, rule('nh3', want));
    expect(step(spray, MIN)).toEqual({ kind: 'defer', until: 2 * MIN });
    expect(step(spray, 2 * MIN)).toMatchObject({ kind: 'command', action: 'off' });
    hold(spray, rule('nh3', want));
    expect(step(spray, 3 * MIN)).toEqual({ kind: 'defer', until: 7 * MIN });
    expect(step(spray, 7 * MIN)).toMatchObject({ kind: 'command', action: 'on' });
  });

  it("an operator's hold is not held back by the rules' minOn", () => {
    const fan = createEntry('fan');
    hold(fan, rule('nh3', { action: 'on', minOnMs: 10 * MIN }));
    step(fan, 0);
    hold(fan, ops(off));
    expect(step(fan, MIN)).toMatchObject({ kind: 'command', action: 'off', hold: { kind: 'operator' } });
  });

  it('a set value change while running is not held back by minOn', () => {
    const fan = createEntry('fan');
    hold(fan, rule('a', { action: 'set', value: 40, minOnMs: 10 * MIN }));
    step(fan, 0);
    hold(fan, rule('b', { action: 'set', value: 80 }));
    expect(step(fan, MIN)).toMatchObject({ kind: 'command', action: 'set', value: 80 });
  });

  it('an operator hold ends at its end, and the rules decide again', () => {
    const fan = createEntry('fan');
    hold(fan, rule('nh3', on));
    step(fan, 0);
    hold(fan, ops(off, 30 * MIN));
    expect(step(fan, 0)).toMatchObject({ kind: 'command', action: 'off' });
    expect(expireHold(fan, 30 * MIN - 1)).toBeUndefined();
    expect(expireHold(fan, 30 * MIN)).toMatchObject({ kind: 'operator', user: 'ops' });
    expect(step(fan, 30 * MIN)).toMatchObject({ kind: 'command', action: 'on', hold: { kind: 'rule', rule: 'nh3' } });
  });

  it('in manual mode decides nothing; a mode switch ends the operator hold; when manual expires the rules decide again', () => {
    const fan = createEntry('fan');
    hold(fan, rule('heat', on));
    hold(fan, ops({ action: 'set', value: 30 }));
    expect(setMode(fan, 'manual', 10 * MIN, 'ops')).toMatchObject([{ kind: 'operator' }]);
    expect(decide(fan, 0)).toEqual({ kind: 'none' });
    expect(expireManual(fan, 9 * MIN)).toBe(false);
    expect(expireManual(fan, 10 * MIN)).toBe(true);
    expect(fan.mode).toBe('auto');
    expect(ids(fan)).toEqual(['heat']);
    expect(decide(fan, 10 * MIN)).toMatchObject({ kind: 'command', action: 'on' });
  });

  it('starts from the state the actuator reported, so a fan already on is not switched on again', () => {
    const fan = createEntry('fan');
    reported(fan, { action: 'on' }, 0);
    hold(fan, rule('a', on));
    expect(decide(fan, 1)).toEqual({ kind: 'none' });
  });
});
