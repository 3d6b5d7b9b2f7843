import { describe, expect, it } from 'vitest';
import { completionRate, merge, newHistogram, pack, percentile, rateBetween, record, slope, summarize, unpack } from '../../bench/stats.js';

describe('benchmark statistics', () => {
  it('reports latency percentiles within 1 % of the exact value', () => {
    const h = newHistogram();
    for (let ms = 1; ms <= 1000; ms++) record(h, ms);
    expect(percentile(h, 50)).toBeGreaterThan(500 * 0.99);
    expect(percentile(h, 50)).toBeLessThan(500 * 1.01);
    expect(percentile(h, 99)).toBeGreaterThan(990 * 0.99);
    expect(percentile(h, 99)).toBeLessThan(990 * 1.01);
    expect(percentile(newHistogram(), 50)).toBeUndefined();
  });

  it('keeps sub-millisecond latencies to 0.01 ms and never reports above the maximum seen', () => {
    const h = newHistogram();
    record(h, 0.25);
    record(h, 0.3);
    expect(percentile(h, 99)).toBeCloseTo(0.3, 2);
    expect(percentile(h, 50)).toBeCloseTo(0.255, 2);
  });

  it('merges histograms sent between processes as if recorded in one', () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 0; i < 99; i++) record(a, 2);
    record(b, 400);
    const merged = merge(unpack(pack(a)), unpack(JSON.parse(JSON.stringify(pack(b)))));
    expect(merged.total).toBe(100);
    expect(percentile(merged, 99)).toBeCloseTo(2, 1);
    expect(percentile(merged, 100)).toBeGreaterThan(390);
  });

  it('summarizes runs as median with min and max, ignoring runs without a value', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
    expect(summarize([4, 1, undefined, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, runs: 4 });
    expect(summarize([undefined])).toBeUndefined();
  });

  it('reads a rate over a window from count samples, interpolating at its ends', () => {
    const samples = [
      { at: 0, count: 0 },
      { at: 1000, count: 100 },
      { at: 2000, count: 300 },
      { at: 3000, count: 600 },
    ];
    expect(rateBetween(samples, 500, 2500)).toBeCloseTo(200);
    expect(rateBetween(samples, 2000, 9000)).toBeCloseTo(300);
    expect(rateBetween(samples.slice(0, 1), 0, 1000)).toBeUndefined();
  });

  it('times a fixed amount of work from its start to the moment the count reached it, between two samples', () => {
    const samples = [
      { at: 1500, count: 400 },
      { at: 1000, count: 100 },
      { at: 2000, count: 900 },
      { at: 2500, count: 1000 },
    ];
    // 1,000 is reached at the sample at 2,500 ms: 2,000 ms after a start at 500 (samples may arrive out of order).
    expect(completionRate(samples, 1000, 500)).toBeCloseTo(500);
    // 650 is reached halfway between the samples at 1,500 (400) and 2,000 (900): 1,750 ms after a start at 450.
    expect(completionRate(samples, 650, 450)).toBeCloseTo(500);
    expect(completionRate(samples, 2000, 0)).toBeUndefined();
    // Reached by the first sample: interpolated from the start (count 0 then).
    expect(completionRate([{ at: 1000, count: 200 }], 100, 0)).toBeCloseTo(200);
  });

  it('finds the memory trend of the soak as a least-squares slope', () => {
    expect(
      slope([
        { x: 0, y: 100 },
        { x: 1, y: 102 },
        { x: 2, y: 104 },
      ]),
    ).toBeCloseTo(2);
    expect(slope([{ x: 1, y: 5 }])).toBeUndefined();
  });
});
