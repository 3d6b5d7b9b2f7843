import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import type { Reading } from '../../core/domain.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm, type FarmIndex } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createReportIntervals } from '../../dashboard/report-intervals.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import type { Store } from '../../store/store.js';
import { DEMO_CONFIG } from '../helpers/service.js';

/**
 * How often a device reports, as the dashboard judges old values by it: the farm file's `reportEvery` (also after
 * the file is reloaded), else the median gap of the readings it sees, else the readings of the last hour in the
 * (real, embedded) store.
 */
const dir = mkdtempSync(join(tmpdir(), 'farm-intervals-'));
let store: Store;
const now = Date.parse('2026-07-20T04:00:00Z');

beforeAll(async () => {
  store = createSqliteStore({ dataDir: dir, logger: silentLogger() });
  await store.init();
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function farmWith(reportEvery: Record<string, number>): FarmIndex {
  const config = loadFarmConfig(DEMO_CONFIG);
  for (const site of config.sites)
    for (const zone of site.zones) for (const d of zone.devices) if (reportEvery[d.id] !== undefined) d.reportEvery = reportEvery[d.id];
  return indexFarm(config);
}

describe('report intervals', () => {
  it("the farm file's reportEvery, and after a reload the new file's", () => {
    let farm = farmWith({ 'shed-1-env': 10_000 });
    const intervals = createReportIntervals({
      get farm() {
        return farm;
      },
      store,
      logger: silentLogger(),
      now: () => now,
    });
    expect(intervals.intervalMs('shed-1-env')).toBe(10_000);
    expect(intervals.intervalMs('shed-2-env')).toBeUndefined();
    farm = farmWith({ 'shed-1-env': 60_000, 'shed-2-env': 30_000 });
    expect([intervals.intervalMs('shed-1-env'), intervals.intervalMs('shed-2-env')]).toEqual([60_000, 30_000]);
  });

  it('learned from the readings on the bus: the median gap, so one late report does not move it', () => {
    const bus = new FarmBus();
    const intervals = createReportIntervals({ farm: farmWith({}), store, bus, logger: silentLogger(), now: () => now });
    const reading = (ts: number): Reading => ({ site: 'huyang', zone: 'shed-3', kind: 'shed', device: 'shed-3-env', ts, metrics: { temperature: 20 } });
    for (const ts of [0, 5_000, 10_000, 40_000, 45_000]) bus.emit('reading', reading(now + ts));
    expect(intervals.intervalMs('shed-3-env')).toBe(5_000);
    intervals.stop();
  });

  it('seeded from the last hour in the store after a restart, for a sensor the file says nothing about', async () => {
    const readings: Reading[] = [];
    for (let ts = now - 50 * 60_000; ts < now; ts += 2 * 60_000)
      readings.push({ site: 'huyang', zone: 'shed-4', kind: 'shed', device: 'shed-4-env', ts, metrics: { temperature: 21 } });
    await store.writeReadings(readings);
    const intervals = createReportIntervals({ farm: farmWith({}), store, logger: silentLogger(), now: () => now });
    expect(intervals.intervalMs('shed-4-env')).toBeUndefined();
    await intervals.seed(['shed-4-env']);
    expect(intervals.intervalMs('shed-4-env')).toBeGreaterThanOrEqual(110_000);
    expect(intervals.intervalMs('shed-4-env')).toBeLessThanOrEqual(130_000);
  });
});
