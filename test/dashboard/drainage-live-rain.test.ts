import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import { FarmBus } from '../../core/events.js';
import { buildDrainage, DEFAULT_HIGH_WATER } from '../../dashboard/drainage.js';
import { createLiveRain } from '../../dashboard/live-rain.js';
import { buildTestDashboard, type TestDashboard } from './fixtures.js';

// The drainage snapshot on the real embedded store. Ingest sends a reading live a moment before its write is
// durable; a snapshot taken in that moment must count it (the page trusts the snapshot for rain stamped before its
// asOf), and once it is stored, count it once. A bus of its own carries the live reading, so nothing stores it
// before the test does (the fixture's stand-in ingest stores what its bus carries).
let t: TestDashboard;
beforeAll(async () => {
  t = await buildTestDashboard();
});
afterAll(() => t?.close());

const rain = (ts: number, mm: number): Reading => ({ site: 'city', zone: 'rain-1', kind: 'drain', device: 'rain-1-gauge', ts, metrics: { rain_mm: mm } });

describe('drainage rain totals', () => {
  it('count rain seen live before its write is visible, and count it once after', async () => {
    const bus = new FarmBus();
    const liveRain = createLiveRain({ bus, now: Date.now });
    const gauge = async () => {
      const d = await buildDrainage(
        { farm: t.deps.farm, store: t.store, rules: [], activeAlerts: [], highWater: DEFAULT_HIGH_WATER, liveRain },
        'city',
        Date.now(),
      );
      return d.gauges.find((g) => g.device === 'rain-1-gauge')!;
    };
    const now = Date.now();
    await t.store.writeReadings([rain(now - 2 * 3_600_000, 1.5)]); // two hours ago: in 24 h, not in 1 h
    expect(await gauge()).toMatchObject({ rain1hMm: 0, rain24hMm: 1.5 });

    const live = rain(now - 1000, 2.5);
    bus.emit('reading', live); // seen live, not stored yet
    expect(await gauge()).toMatchObject({ rain1hMm: 2.5, rain24hMm: 4 });

    await t.store.writeReadings([live]); // durable now: the same reading, counted once
    expect(await gauge()).toMatchObject({ rain1hMm: 2.5, rain24hMm: 4 });
    liveRain.stop();
  });
});
