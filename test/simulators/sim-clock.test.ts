import { describe, expect, it } from 'vitest';
import { createSimClock } from '../../simulators/sim-clock.js';

describe('simulated clock', () => {
  it('stands still until advanced, then fires due timers in order, each seeing its own due time', () => {
    const clock = createSimClock(1_000_000);
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 2000);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 1000);
    clock.setTimeout(() => fired.push(['c', clock.now()]), 2000);
    expect(clock.now()).toBe(1_000_000);
    expect(clock.advanceTo(1_001_500)).toBe(1_001_500);
    expect(fired).toEqual([['a', 1_001_000]]);
    clock.advanceTo(1_005_000);
    expect(fired).toEqual([
      ['a', 1_001_000],
      ['b', 1_002_000],
      ['c', 1_002_000],
    ]);
    expect(clock.now()).toBe(1_005_000);
  });

  it('a timer that re-arms itself (the rules tick loop) fires once per period of simulated time', () => {
    const clock = createSimClock(0);
    let ticks = 0;
    const loop = () => {
      ticks++;
      clock.setTimeout(loop, 1000);
    };
    clock.setTimeout(loop, 1000);
    clock.advanceTo(60_000);
    expect(ticks).toBe(60);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('cleared timers do not fire, time never goes back, and a timer looping without delay is stopped with a clear error', () => {
    const clock = createSimClock(0);
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 10);
    clock.clearTimeout(handle);
    clock.advanceTo(100);
    expect(fired).toBe(false);
    expect(clock.advanceTo(50)).toBe(100);
    expect(clock.now()).toBe(100);
    const spin = () => clock.setTimeout(spin, 0);
    spin();
    expect(() => clock.advanceTo(200)).toThrow(/re-arming itself without delay/);
    expect(() => createSimClock(Number.NaN)).toThrow(/start time/);
  });

  it('can pause right after the timer that asks for it (a command sent that must be answered first)', () => {
    const clock = createSimClock(0);
    let commandSent = false;
    clock.setTimeout(() => undefined, 1000);
    clock.setTimeout(() => (commandSent = true), 3000);
    clock.setTimeout(() => undefined, 5000);
    expect(clock.advanceTo(10_000, () => commandSent)).toBe(3000);
    expect(clock.now()).toBe(3000);
    commandSent = false;
    expect(clock.advanceTo(10_000, () => commandSent)).toBe(10_000);
    expect(clock.pendingTimers()).toBe(0);
  });
});
