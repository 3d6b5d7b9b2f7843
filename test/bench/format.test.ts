import { describe, expect, it } from 'vitest';
import { latencyRatio, ratio } from '../../bench/format.js';

describe('bench report ratios', () => {
  it('divides a throughput by its reference', () => {
    expect(ratio(22_337, 15_507)).toBe('1.44×');
    expect(ratio(undefined, 15_507)).toBe('n/a');
    expect(ratio(1, 0)).toBe('n/a');
  });

  it('gives a latency ratio against a sub-millisecond reference as a lower bound, not a thousands-fold figure', () => {
    expect(latencyRatio(36.9, 0.005)).toBe('≥ 36.9× (reference < 1 ms)');
    expect(latencyRatio(36.9, 1)).toBe('36.90×');
    expect(latencyRatio(undefined, 1)).toBe('n/a');
  });
});
