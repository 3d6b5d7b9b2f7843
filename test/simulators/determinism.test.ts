import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed } from '../../simulators/models/rng.js';
import { createFarmSimulation } from '../../simulators/farm-sim.js';
import { SCENARIO_NAMES } from '../../simulators/scenarios.js';
import { demoLikeFarm, localTime } from './fixtures.js';

const series = (seed: number, scenario: (typeof SCENARIO_NAMES)[number] = 'typhoon') => {
  const sim = createFarmSimulation({ farm: demoLikeFarm(), scenario, seed, startTs: localTime(9), reportEverySec: 120 });
  return sim.advance(3 * 3600);
};

describe('determinism', () => {
  it('the same seed gives the same random numbers; another seed gives others', () => {
    const a = createRng(7);
    const b = createRng(7);
    const xs = Array.from({ length: 100 }, () => a.gaussian());
    expect(Array.from({ length: 100 }, () => b.gaussian())).toEqual(xs);
    const c = createRng(8);
    expect(Array.from({ length: 100 }, () => c.gaussian())).not.toEqual(xs);
    expect(deriveSeed(7, 'shed-1-env')).not.toBe(deriveSeed(7, 'shed-2-env'));
  });

  it('uniform numbers fill [0, 1) and gaussians have the asked mean and spread', () => {
    const r = createRng(42);
    const u = Array.from({ length: 20000 }, () => r.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const g = Array.from({ length: 20000 }, () => r.gaussian(5, 2));
    const mean = g.reduce((a, b) => a + b) / g.length;
    const sd = Math.sqrt(g.reduce((a, b) => a + (b - mean) ** 2, 0) / g.length);
    expect(mean).toBeCloseTo(5, 1);
    expect(sd).toBeCloseTo(2, 1);
  });

  it.each(SCENARIO_NAMES)('%s: same seed -> the same messages, byte for byte', (name) => {
    expect(JSON.stringify(series(7, name))).toBe(JSON.stringify(series(7, name)));
  });

  it('a different seed gives a different series', () => {
    expect(JSON.stringify(series(7))).not.toBe(JSON.stringify(series(8)));
  });
});
