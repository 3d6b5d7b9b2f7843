import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { Reading } from '../../core/domain.js';
import { createSqliteStore, historySql } from '../../store/sqlite-store.js';
import type { HistoryQuery, Store } from '../../store/store.js';
import { describeStoreContract } from './contract.js';

const logger = silentLogger();

async function openAt(dataDir: string): Promise<Store> {
  const store = createSqliteStore({ dataDir, logger });
  await store.init();
  return store;
}

describeStoreContract('embedded (SQLite)', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'farm-sqlite-'));
  const sut = {
    store: await openAt(dataDir),
    reopen: () => openAt(dataDir),
    async cleanup() {
      await sut.store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return sut;
});

describe('embedded store on disk', () => {
  it('creates DATA_DIR and farm.db in WAL mode', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'farm-sqlite-'));
    const dataDir = join(parent, 'not', 'there', 'yet');
    const store = await openAt(dataDir);
    await store.close();
    const db = new Database(join(dataDir, 'farm.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    await rm(parent, { recursive: true, force: true });
  });

  it('says which path could not be opened when DATA_DIR cannot be created', async () => {
    // A path below a regular file fails even for root (tests may run as root, so permissions would not).
    const parent = await mkdtemp(join(tmpdir(), 'farm-sqlite-'));
    await writeFile(join(parent, 'a-file'), '');
    const dataDir = join(parent, 'a-file', 'data');
    const store = createSqliteStore({ dataDir, logger });
    await expect(store.init()).rejects.toMatchObject({ code: 'STORE_NO_DATABASE', message: expect.stringContaining(`${dataDir}/farm.db`) });
    await rm(parent, { recursive: true, force: true });
  });
});

describe('embedded store with a million rows', () => {
  const HOUR = 3_600_000;
  const base = Date.UTC(2026, 0, 1);
  const devices = Array.from({ length: 50 }, (_, i) => `shed-${i % 10}-env-${i}`);
  let dataDir: string;
  let store: Store;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'farm-sqlite-perf-'));
    store = await openAt(dataDir);
    // 50 devices x 2 metrics x 10,000 readings 10 s apart = 1,000,000 rows, in batches like ingest sends.
    const started = Date.now();
    for (let step = 0; step < 10_000; step += 100) {
      const batch: Reading[] = [];
      for (let s = step; s < step + 100; s++)
        for (const [i, device] of devices.entries())
          batch.push({ site: `site-${i % 2}`, zone: `shed-${i % 10}`, kind: 'shed', device, ts: base + s * 10_000, metrics: { temperature: 20 + (s % 7), nh3: s % 30 } });
      await store.writeReadings(batch);
    }
    console.log(`embedded store: 1,000,000 rows written in ${Date.now() - started} ms`);
  }, 300_000);

  afterAll(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function plan(q: HistoryQuery): string {
    const { sql, params } = historySql(q);
    const db = new Database(join(dataDir, 'farm.db'), { readonly: true });
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[];
    db.close();
    return rows.map((r) => r.detail).join('\n');
  }

  const hour: HistoryQuery = { metric: 'temperature', from: base + 5 * HOUR, to: base + 6 * HOUR, everyMs: 60_000 };
  it.each<[string, HistoryQuery]>([
    ['the whole farm', hour],
    ['one site', { ...hour, site: 'site-1' }],
    ['one zone', { ...hour, site: 'site-1', zone: 'shed-3' }],
    ['one device', { ...hour, device: devices[7] }],
  ])('answers a 1 h history query for %s from an index, not a table scan', async (_, q) => {
    const detail = plan(q);
    expect(detail).toMatch(/SEARCH readings USING (COVERING )?(INDEX|PRIMARY KEY)/);
    expect(detail).toMatch(/ts>\? AND ts<\?/);
    expect(detail).not.toMatch(/SCAN readings/);
    const series = await store.history(q);
    const count = series.reduce((n, s) => n + s.buckets.reduce((m, b) => m + b.count, 0), 0);
    expect(count).toBe(360 * (q.device ? 1 : q.zone ? 5 : q.site ? 25 : 50));
  });

  it('keeps latest() to one row per device and metric', async () => {
    const latest = await store.latest();
    expect(latest).toHaveLength(100);
    expect(latest.every((v) => v.ts === base + 9_999 * 10_000)).toBe(true);
  });
});
