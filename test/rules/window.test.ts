import { describe, expect, it } from 'vitest';
import { addSample, aggregate, createWindow, MAX_BUCKETS } from '../../rules/window.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('sliding window', () => {
  it('sums rainfall over the last hour and forgets what fell before it', () => {
    const w = createWindow(HOUR);
    for (let i = 0; i < 12; i++) addSample(w, i * 5 * MIN, 2, i * 5 * MIN); // 2 mm every 5 min
    expect(aggregate(w, 'sum', 55 * MIN)).toBe(24);
    // At 1 h the first sample (t=0) has left the window (now - 1 h, now].
    expect(aggregate(w, 'sum', HOUR)).toBe(22);
    expect(aggregate(w, 'sum', 2 * HOUR)).toBe(0);
  });

  it('gives mean, max, min and rate (per hour) over the window', () => {
    const w = createWindow(HOUR);
    [1, 4, 2, 5].forEach((v, i) => addSample(w, i * 10 * MIN, v, i * 10 * MIN));
    const now = 30 * MIN;
    expect(aggregate(w, 'mean', now)).toBe(3);
    expect(aggregate(w, 'max', now)).toBe(5);
    expect(aggregate(w, 'min', now)).toBe(1);
    expect(aggregate(w, 'rate', now)).toBeCloseTo(8); // from 1 to 5 in 30 min
  });

  it('has no mean/max/min/rate when empty, but an empty sum is 0 (no rain reported = no rain)', () => {
    const w = createWindow(HOUR);
    expect(aggregate(w, 'sum', 0)).toBe(0);
    expect(aggregate(w, 'mean', 0)).toBeUndefined();
    expect(aggregate(w, 'max', 0)).toBeUndefined();
    addSample(w, 0, 3, 0);
    expect(aggregate(w, 'rate', 0)).toBeUndefined(); // one sample has no slope
  });

  it('keeps memory bounded however often a sensor reports', () => {
    const w = createWindow(24 * HOUR);
    for (let t = 0; t < 24 * HOUR; t += 1000) addSample(w, t, 1, t); // one reading a second for a day
    expect(w.buckets.length).toBeLessThanOrEqual(MAX_BUCKETS + 1);
    expect(aggregate(w, 'sum', 24 * HOUR - 1000)).toBe(86_400);
  });

  it('counts exactly what fell in (now - window, now], a second either side of the edge, at any report rate below one every 3.5 s', () => {
    const w = createWindow(HOUR);
    for (let t = 0; t < 2 * HOUR; t += 4000) addSample(w, t, 0.25, t);
    const now = 2 * HOUR - 4000 + 1000;
    // Samples at t with now - 1 h < t <= now: from 3600 s + 1 s to the last one.
    const inWindow = Array.from({ length: (2 * HOUR) / 4000 }, (_, i) => i * 4000).filter((t) => t > now - HOUR && t <= now).length;
    expect(aggregate(w, 'sum', now)).toBe(inWindow * 0.25);
    expect(aggregate(w, 'sum', now + 3000)).toBe((inWindow - 1) * 0.25);
  });

  it('takes a late sample into its place and ignores one already outside the window', () => {
    const w = createWindow(HOUR);
    addSample(w, 30 * MIN, 5, 30 * MIN);
    addSample(w, 10 * MIN, 1, 30 * MIN);
    addSample(w, -40 * MIN, 100, 30 * MIN);
    expect(aggregate(w, 'sum', 30 * MIN)).toBe(6);
    expect(aggregate(w, 'rate', 30 * MIN)).toBeCloseTo(12);
  });
});
