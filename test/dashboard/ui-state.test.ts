import { describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import type { DrainageResponseT } from '../../dashboard/schemas.js';
import { applyReadings, model, setDrainage } from '../../dashboard/ui/state.js';

/** The page's model (dashboard/ui/state.ts) is plain TypeScript: its rainfall bookkeeping is tested here without a browser. */
const T0 = Date.now();
const rain = (device: string, ts: number, mm: number): Reading => ({ site: 'city', zone: 'rain-1', kind: 'drain', device, ts, metrics: { rain_mm: mm } });
const snapshot = (asOf: number, rain1hMm: number, rain24hMm = rain1hMm): DrainageResponseT => ({
  site: 'city',
  pipes: [],
  gauges: [{ zone: 'rain-1', device: 'gauge-1', rain1hMm, rain24hMm }],
  highWater: [],
  highWaterRule: { fillPct: 60, hours: 6, dryRainMm: 1 },
  asOf,
});
const totals = () => {
  const g = model.drainage.get('city')!.gauges[0];
  return [g.rain1hMm, g.rain24hMm];
};

describe('dashboard page model: rainfall totals', () => {
  it('adds live rain to the totals of the last drainage snapshot', () => {
    setDrainage(snapshot(T0, 1, 4));
    applyReadings([rain('gauge-1', T0 + 1000, 2.5)]);
    expect(totals()).toEqual([3.5, 6.5]);
  });

  it('keeps live rain that a snapshot computed before it did not count, and does not count twice what it did', () => {
    // The page got 2.5 mm live at T0+1000 (previous test); then a snapshot computed at T0+500 arrives late:
    // its totals miss that rain, so it is added again.
    setDrainage(snapshot(T0 + 500, 1, 4));
    expect(totals()).toEqual([3.5, 6.5]);
    // A snapshot computed after the reading already holds it: taken as it is.
    setDrainage(snapshot(T0 + 2000, 3.5, 6.5));
    expect(totals()).toEqual([3.5, 6.5]);
  });

  it('ignores rain of another site and dry readings', () => {
    applyReadings([{ ...rain('gauge-1', T0 + 3000, 1), site: 'elsewhere' }, rain('gauge-1', T0 + 3000, 0)]);
    setDrainage(snapshot(T0 + 2500, 3.5, 6.5));
    expect(totals()).toEqual([3.5, 6.5]);
  });
});
