import { describe, expect, it } from 'vitest';
import { ratio, verdict } from '../../bench/format.js';

describe('bench report ratios', () => {
  it('divides a throughput by its reference', () => {
    expect(ratio(22_337, 15_507)).toBe('1.44×');
    expect(ratio(undefined, 15_507)).toBe('n/a');
    expect(ratio(1, 0)).toBe('n/a');
  });

  it('reads every ratio the same way: two decimals and ×, small or large', () => {
    expect(ratio(75_000, 150_000)).toBe('0.50×');
    expect(ratio(5487, 100)).toBe('54.87×');
    expect(ratio(1_234_567, 1)).toBe('1,234,567.00×');
  });

  it('does not judge speed targets in a --quick run, but judges lost readings in every run', () => {
    expect(verdict(false, { quick: true })).toBe('not judged (quick run)');
    expect(verdict(true, { quick: true })).toBe('not judged (quick run)');
    expect(verdict(false, { quick: true, always: true })).toBe('**missed**');
    expect(verdict(false, { quick: false })).toBe('**missed**');
    expect(verdict(true, { quick: false })).toBe('met');
    expect(verdict(undefined, { quick: false })).toBe('not measured');
  });
});
