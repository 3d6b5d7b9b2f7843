import { describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import type { DrainageResponseT } from '../../dashboard/schemas.js';
import { applyReadings, model, setDrainage } from '../../dashboard/ui/state.js';
import { startOfNextLocalDay } from '../../core/site-time.js';

/** The page's model (dashboard/ui/state.ts) is plain TypeScript: its rainfall bookkeeping is tested here without a browser. */
const T0 = Date.now();
const rain = (device: string, ts: number, mm: number): Reading => ({ site: 'city', zone: 'rain-1', kind: 'drain', device, ts, metrics: { rain_mm: mm } });
const snapshot = (asOf: number, rain1hMm: number, rain24hMm = rain1hMm, rainTodayMm = rain1hMm, dayStart = T0 - 3_600_000): DrainageResponseT => ({
  site: 'city',
  pipes: [],
  gauges: [{ zone: 'rain-1', device: 'gauge-1', rain1hMm, rain24hMm, rainTodayMm }],
  highWater: [],
  highWaterRule: { fillPct: 60, hours: 6, dryRainMm: 1 },
  asOf,
  timeZone: 'Asia/Shanghai',
  dayStart,
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

describe("dashboard page: times in the site's zone", () => {
  it('tells a time as the site does, with its zone, in English and Chinese, whatever the browser zone', async () => {
    const { fmtTime } = await import('../../dashboard/ui/dom.js');
    const ts = Date.UTC(2024, 10, 22, 5, 51, 2); // 13:51:02 in Zhejiang
    expect(fmtTime(ts, 'en', 'Asia/Shanghai')).toMatch(/^Nov 22, 13:51 UTC\+8$/);
    expect(fmtTime(ts, 'zh-CN', 'Asia/Shanghai')).toMatch(/^11月22日 13:51 UTC\+8$/);
    expect(fmtTime(Date.now(), 'en', 'Asia/Shanghai')).toMatch(/^\d\d:\d\d:\d\d UTC\+8$/);
  });

  it('starts "today" again at local midnight when live rain arrives after it', () => {
    const dayStart = startOfNextLocalDay('Asia/Shanghai', T0 + 10_000); // the next midnight in Zhejiang
    setDrainage({ ...snapshot(dayStart + 3_600_000, 1, 4, 3), dayStart });
    applyReadings([rain('gauge-1', dayStart + 2 * 3_600_000, 2)]);
    expect(model.drainage.get('city')!.gauges[0].rainTodayMm).toBe(5);
    applyReadings([rain('gauge-1', dayStart + 24 * 3_600_000 + 60_000, 0.5)]); // 00:01 the day after
    expect(model.drainage.get('city')!.gauges[0].rainTodayMm).toBe(0.5);
    expect(model.drainage.get('city')!.dayStart).toBe(dayStart + 24 * 3_600_000);
  });
});
