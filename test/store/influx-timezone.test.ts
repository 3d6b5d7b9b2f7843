import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { bucketStart, DAY_MS, HOUR_MS } from '../../core/site-time.js';
import { createInfluxStore } from '../../store/influx-store.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import type { HistorySeries, Store } from '../../store/store.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { reading } from './contract.js';

/**
 * The embedded store and a real InfluxDB 1.6 (Debian's influxd, GROUP BY time() tz()) cut the same history
 * buckets in a site's zone: the same readings, every 15 minutes across both of Europe/Berlin's DST changes of 2026
 * and over ordinary days, asked with widths from 1 h to 7 d in zones with and without DST and with a half-hour
 * offset. Every bucket (start, count, min, max, sum, mean) must match, and match core/site-time.ts bucketStart.
 */
const logger = silentLogger();
let influxd: Influxd;
let dir: string;
let influx: Store;
let sqlite: Store;

const SPRING = Date.UTC(2026, 2, 29, 1);
const FALL = Date.UTC(2026, 9, 25, 1);
const STEP = 15 * 60_000;
const around = (t: number) => ({ from: t - 3 * DAY_MS - 7 * HOUR_MS, to: t + 3 * DAY_MS + 5 * HOUR_MS });
const RANGES = [around(SPRING), around(FALL), around(Date.UTC(2026, 6, 1))];
// Values that are exact in binary, so sums agree to the last bit whatever the order of addition.
const value = (i: number) => ((i * 7) % 13) / 4;

beforeAll(async () => {
  influxd = await startInfluxd();
  dir = await mkdtemp(join(tmpdir(), 'farm-tz-'));
  influx = createInfluxStore({ kind: 'influx-v1', url: influxd.url, database: 'tz', timeoutMs: 10_000 }, { logger });
  sqlite = createSqliteStore({ dataDir: dir, logger });
  await Promise.all([influx.init(), sqlite.init()]);
  const readings = RANGES.flatMap(({ from, to }) => {
    const out = [];
    for (let t = from, i = 0; t < to; t += STEP, i++) out.push(reading('drain-a-1', t, { rain_mm: value(i), fill: 40 + value(i) }));
    return out;
  });
  await Promise.all([influx.writeReadings(readings), sqlite.writeReadings(readings)]);
});

afterAll(async () => {
  await Promise.all([influx?.close(), sqlite?.close()]);
  await influxd?.stop();
  await rm(dir, { recursive: true, force: true });
});

const normalise = (series: HistorySeries[]) =>
  series.map((s) => ({ device: s.device, buckets: s.buckets.map((b) => ({ ...b, mean: Math.round(b.mean * 1e9) / 1e9 })) }));

describe('history buckets in the site zone: embedded store and InfluxDB agree', () => {
  const zones = ['Europe/Berlin', 'Asia/Shanghai', 'Asia/Kolkata', 'America/Sao_Paulo', 'UTC'];
  const widths: [string, number][] = [
    ['1h', HOUR_MS],
    ['2h', 2 * HOUR_MS],
    ['3h', 3 * HOUR_MS],
    ['6h', 6 * HOUR_MS],
    ['12h', 12 * HOUR_MS],
    ['1d', DAY_MS],
    ['2d', 2 * DAY_MS],
    ['7d', 7 * DAY_MS],
  ];
  for (const zone of zones) {
    it(`${zone}: every width from 1 h to 7 d, increments and levels, across DST days`, async () => {
      for (const range of RANGES) {
        for (const [name, everyMs] of widths) {
          for (const metric of ['rain_mm', 'fill']) {
            const q = { device: 'drain-a-1', metric, ...range, everyMs, timeZone: zone };
            const [fromInflux, fromSqlite] = await Promise.all([influx.history(q), sqlite.history(q)]);
            const where = `${zone} ${name} ${metric} from ${new Date(range.from).toISOString()}`;
            expect(normalise(fromSqlite), where).toEqual(normalise(fromInflux));
            // ... and both are what core/site-time.ts says.
            const starts = new Set<number>();
            for (let t = range.from; t < range.to; t += STEP) starts.add(bucketStart(zone, t, everyMs));
            expect(
              fromSqlite[0].buckets.map((b) => b.ts),
              where,
            ).toEqual([...starts]);
          }
        }
      }
    });
  }

  it('a Berlin day bucket holds 23 h of readings on the spring day and 25 h on the autumn day, in both stores', async () => {
    for (const store of [influx, sqlite]) {
      const count = async (day: number) => {
        const [s] = await store.history({ device: 'drain-a-1', metric: 'rain_mm', from: day, to: day + 1, everyMs: DAY_MS, timeZone: 'Europe/Berlin' });
        const all = await store.history({
          device: 'drain-a-1',
          metric: 'rain_mm',
          from: day - DAY_MS,
          to: day + 2 * DAY_MS,
          everyMs: DAY_MS,
          timeZone: 'Europe/Berlin',
        });
        return { start: s.buckets[0].ts, count: all[0].buckets.find((b) => b.ts === s.buckets[0].ts)!.count };
      };
      expect(await count(SPRING)).toEqual({ start: Date.UTC(2026, 2, 28, 23), count: 23 * 4 });
      expect(await count(FALL)).toEqual({ start: Date.UTC(2026, 9, 24, 22), count: 25 * 4 });
    }
  });
});
