import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { Reading } from '../../core/domain.js';
import { createSqliteStore, historySql } from '../../store/sqlite-store.js';
import { StoreError, type HistoryQuery, type Store } from '../../store/store.js';
import { watchEventLoop } from '../helpers/event-loop.js';
import { BASE, commandRecord, describeStoreContract, reading } from './contract.js';

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

describe('embedded store writes (in the writer thread)', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'farm-sqlite-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stores writes made without waiting in the order they were made, and close() waits for them', async () => {
    const store = await openAt(dataDir);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      writes.push(store.writeCommands([commandRecord('shed-1-env', BASE + (i % 3), i % 2 ? 'acked' : 'sent')]));
      // The same device+metric+ts written again: the first value stands (SPEC: readings are idempotent).
      writes.push(store.writeReadings([reading('shed-1-env', BASE, { nh3: i })]));
    }
    await store.close();
    await Promise.all(writes);
    const reopened = await openAt(dataDir);
    const stored = await reopened.commands({ limit: 100 });
    // Newest first; within one ms by the order written.
    expect(stored.map((c) => c.outcome)).toHaveLength(30);
    const order = [...stored]
      .reverse()
      .filter((c) => c.ts === BASE)
      .map((c) => c.outcome);
    expect(order).toEqual(
      Array.from({ length: 30 }, (_, i) => i)
        .filter((i) => i % 3 === 0)
        .map((i) => (i % 2 ? 'acked' : 'sent')),
    );
    expect((await reopened.latest({ device: 'shed-1-env' })).map((v) => v.value)).toEqual([0]);
    expect((await reopened.raw({ device: 'shed-1-env', from: BASE, to: BASE + 1 })).map((p) => p.value)).toEqual([0]);
    await reopened.close();
  });

  it('turns a lock held by another process into a retryable STORE_WRITE that names the file, without stalling the service meanwhile', async () => {
    const store = createSqliteStore({ dataDir, logger, busyTimeoutMs: 300 });
    await store.init();
    const other = new Database(join(dataDir, 'farm.db'));
    other.exec('BEGIN IMMEDIATE');
    const loop = watchEventLoop();
    const started = performance.now();
    const err = await store.writeReadings([reading('shed-1-env', BASE, { nh3: 1 })]).catch((e: unknown) => e);
    const waitedMs = performance.now() - started;
    const gapMs = loop.stop();
    other.exec('ROLLBACK');
    other.close();
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({
      code: 'STORE_WRITE',
      retryable: true,
      message: `embedded store ${dataDir}/farm.db: writing readings failed: database is locked`,
    });
    expect(waitedMs).toBeGreaterThanOrEqual(250);
    expect(gapMs).toBeLessThan(waitedMs); // the wait happened in the writer thread, not on the event loop
    await store.writeReadings([reading('shed-1-env', BASE, { nh3: 2 })]); // works again once the lock is gone
    expect((await store.latest()).map((v) => v.value)).toEqual([2]);
    await store.close();
  });

  it('refuses writes after close() with a clear error', async () => {
    const store = await openAt(dataDir);
    await store.close();
    await expect(store.writeReadings([reading('shed-1-env', BASE, { nh3: 1 })])).rejects.toMatchObject({
      code: 'STORE_WRITE',
      message: expect.stringContaining('is not open: call init() first'),
    });
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
          batch.push({
            site: `site-${i % 2}`,
            zone: `shed-${i % 10}`,
            kind: 'shed',
            device,
            ts: base + s * 10_000,
            metrics: { temperature: 20 + (s % 7), nh3: s % 30 },
          });
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
