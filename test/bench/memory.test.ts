import { describe, expect, it } from 'vitest';
import { fdLimitProblem, perDeviceKb } from '../../bench/scenarios/memory.js';

const limits = (soft: string, hard: string) =>
  `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                ${hard}                files\n`;

describe('bench memory figures', () => {
  it('gives memory per device only when it grew: never a negative figure', () => {
    expect(perDeviceKb(100 * 1024 * 1024, 110 * 1024 * 1024, 1000)).toBeCloseTo(10.24);
    expect(perDeviceKb(110 * 1024 * 1024, 100 * 1024 * 1024, 500)).toBeUndefined();
    expect(perDeviceKb(undefined, 1, 10)).toBeUndefined();
  });

  it('says before starting when the service could not hold that many connections, and how to raise the limit', () => {
    expect(fdLimitProblem(10_000, limits('20000', '20000'))).toBeUndefined();
    const problem = fdLimitProblem(50_000, limits('20000', '20000'));
    expect(problem).toMatch(/more than its limit of 20,000 \(ulimit -n; hard limit 20000\)/);
    expect(problem).toMatch(/--devices 19000/);
    expect(fdLimitProblem(50_000, limits('unlimited', 'unlimited'))).toBeUndefined();
  });
});
