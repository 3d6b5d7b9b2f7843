import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmConfig } from '../../core/config/schema.js';
import { buildTestDashboard, testFarmConfig, type TestDashboard } from './fixtures.js';

/**
 * GET /api/readings across sites in different zones: every series is bucketed in its own site's zone and says
 * which, so a farm in Zhejiang and a drainage district in Berlin each get their own local days.
 */
describe('readings history across sites in different time zones', () => {
  let t: TestDashboard;
  const day = Date.UTC(2024, 10, 20); // 20 November 2024, 00:00 UTC
  beforeAll(async () => {
    const base = testFarmConfig();
    const config = FarmConfig.parse({
      ...base,
      sites: [
        { ...base.sites[0], timezone: 'Asia/Shanghai' },
        { ...base.sites[1], timezone: 'Europe/Berlin' },
      ],
    });
    t = await buildTestDashboard({}, { config });
    const at = (h: number) => day + h * 3_600_000;
    await t.store.writeReadings([
      { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', ts: at(10), metrics: { temperature: 20 } },
      { site: 'city', zone: 'rain-1', kind: 'drain', device: 'rain-1-gauge', ts: at(10), metrics: { temperature: 5, rain_mm: 2 } },
      { site: 'city', zone: 'rain-1', kind: 'drain', device: 'rain-1-gauge', ts: at(20), metrics: { rain_mm: 3 } },
    ]);
  });
  afterAll(() => t?.close());

  it('cuts each series at its own local midnight and says its zone; rain carries the sum', async () => {
    const res = await t.dashboard.app.inject({
      url: `/api/readings?metric=temperature&from=${day}&to=${day + 86_400_000}&every=1d`,
      headers: await t.auth('viewer'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().series).toEqual([
      { device: 'rain-1-gauge', site: 'city', timeZone: 'Europe/Berlin', buckets: [{ ts: Date.UTC(2024, 10, 19, 23), mean: 5, min: 5, max: 5, count: 1 }] },
      { device: 'shed-1-env', site: 'huyang', timeZone: 'Asia/Shanghai', buckets: [{ ts: Date.UTC(2024, 10, 19, 16), mean: 20, min: 20, max: 20, count: 1 }] },
    ]);
    const rain = await t.dashboard.app.inject({
      url: `/api/readings?device=rain-1-gauge&metric=rain_mm&from=${day}&to=${day + 86_400_000}&every=1d`,
      headers: await t.auth('viewer'),
    });
    // 20:00 UTC is 21:00 in Berlin: the same local day as 10:00 UTC.
    expect(rain.json().series).toEqual([
      {
        device: 'rain-1-gauge',
        site: 'city',
        timeZone: 'Europe/Berlin',
        buckets: [{ ts: Date.UTC(2024, 10, 19, 23), mean: 2.5, min: 2, max: 3, count: 2, sum: 5 }],
      },
    ]);
  });
});
