import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import { silentLogger } from '../../core/logger.js';
import { createBufferedStore, type BufferedStore, type DrainClock } from '../../store/buffered-store.js';
import { createInfluxStore } from '../../store/influx-store.js';
import { createOutbox } from '../../store/outbox.js';
import { StoreError, type Store } from '../../store/store.js';
import { influxql, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { BASE, reading } from './contract.js';

const logger = silentLogger();
const readings = (n: number, from = 0) => Array.from({ length: n }, (_, i) => reading('shed-1-env', BASE + (from + i) * 1000, { nh3: from + i }));

/** An inner store that records delivered batches and fails on demand. */
function fakeInner() {
  const delivered: Reading[][] = [];
  const state = { down: false, refuse: (_: Reading) => false };
  const store = {
    kind: 'influx-v1',
    init: async () => {},
    async writeReadings(batch: Reading[]) {
      if (state.down) throw new StoreError('STORE_WRITE', 'InfluxDB at http://x is not reachable (ECONNREFUSED)', true);
      if (batch.some(state.refuse)) throw new StoreError('STORE_WRITE', 'InfluxDB rejected the write (400 field type conflict)', false);
      delivered.push(batch);
    },
    close: async () => {},
  } as unknown as Store;
  return { store, delivered, state, values: () => delivered.flat().map((r) => r.metrics.nh3) };
}

/** Records back-off delays; sleeps 1 real ms so a failing drainer does not spin. */
function fakeClock() {
  const sleeps: number[] = [];
  const clock: DrainClock = { now: () => Date.now(), sleep: (ms) => (sleeps.push(ms), new Promise((r) => setTimeout(r, 1))) };
  return { clock, sleeps };
}

describe('buffered store (outbox in front of a store)', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'farm-outbox-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function open(inner: Store, options: { batchSize?: number; clock?: DrainClock } = {}) {
    const store = createBufferedStore(inner, createOutbox({ dataDir, logger }), { logger, ...options });
    await store.init();
    return store;
  }

  it('accepts readings while the store is down, then delivers all of them in order once it is back', async () => {
    const inner = fakeInner();
    const { clock, sleeps } = fakeClock();
    inner.state.down = true;
    const store = await open(inner.store, { batchSize: 7, clock });
    for (let i = 0; i < 5; i++) await store.writeReadings(readings(10, i * 10));
    expect(store.stats().outboxDepth).toBe(50);
    while (sleeps.length < 6) await new Promise((r) => setTimeout(r, 2));
    expect(sleeps.slice(0, 6)).toEqual([500, 1000, 2000, 4000, 8000, 10_000]);
    expect(store.stats()).toMatchObject({ outboxDepth: 50, consecutiveFailures: expect.any(Number), lastError: expect.stringContaining('not reachable') });
    inner.state.down = false;
    await store.flush(5000);
    expect(inner.values()).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(inner.delivered.every((b) => b.length <= 7)).toBe(true);
    // Once a write succeeds the error is history: /health goes back from degraded to ok.
    expect(store.stats()).toMatchObject({ outboxDepth: 0, outboxOldestAgeMs: 0, writtenTotal: 50, dead: 0, consecutiveFailures: 0, lastError: undefined });
    expect(store.stats().failedAttempts).toBeGreaterThan(0);
    await store.close();
  });

  it('backs off exponentially up to retryMaxMs and keeps retrying', async () => {
    const inner = fakeInner();
    const { clock, sleeps } = fakeClock();
    inner.state.down = true;
    const store = createBufferedStore(inner.store, createOutbox({ dataDir, logger }), { logger, clock, retryMinMs: 100, retryMaxMs: 1000 });
    await store.init();
    await store.writeReadings(readings(1));
    while (sleeps.length < 8) await new Promise((r) => setTimeout(r, 2));
    expect(sleeps.slice(0, 8)).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
    inner.state.down = false;
    await store.flush(5000);
    expect(inner.values()).toEqual([0]);
    await store.close();
  });

  it('sets aside only the reading the store refuses as invalid, and delivers the rest in order', async () => {
    const inner = fakeInner();
    inner.state.refuse = (r) => r.metrics.nh3 === 37;
    const store = await open(inner.store, { batchSize: 50 });
    await store.writeReadings(readings(100));
    await store.flush(5000);
    expect(inner.values()).toEqual(Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 37));
    expect(store.stats()).toMatchObject({ outboxDepth: 0, dead: 1, writtenTotal: 99 });
    await store.close();
    const db = new Database(join(dataDir, 'outbox.db'), { readonly: true });
    const dead = db.prepare('SELECT reason, json FROM dead').all() as { reason: string; json: string }[];
    db.close();
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0].json).metrics).toEqual({ nh3: 37 });
    expect(dead[0].reason).toContain('400');
  });

  it('keeps undelivered readings across a restart of the service and sends them first', async () => {
    const inner = fakeInner();
    inner.state.down = true;
    const first = await open(inner.store, { clock: fakeClock().clock });
    await first.writeReadings(readings(20));
    await first.close();
    inner.state.down = false;
    const reopened = createOutbox({ dataDir, logger });
    expect(reopened.depth()).toBe(20);
    expect(reopened.peek(1)[0].reading).toEqual(readings(1)[0]);
    reopened.close();
    const second = await open(inner.store);
    await second.writeReadings(readings(5, 20));
    await second.flush(5000);
    expect(inner.values()).toEqual(Array.from({ length: 25 }, (_, i) => i));
    await second.close();
  });

  it('sends the backlog to a healthy store on close, within a bound', async () => {
    const inner = fakeInner();
    const store = createBufferedStore(inner.store, createOutbox({ dataDir, logger }), { logger, batchSize: 10 });
    // init() starts the drainer, which sends at once; close right after the append must still deliver everything.
    await store.init();
    await store.writeReadings(readings(200));
    await store.close();
    expect(inner.values()).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const reopened = createOutbox({ dataDir, logger });
    expect(reopened.depth()).toBe(0);
    reopened.close();
  });

  it('does not hold shutdown for a store that is down or hangs: the readings stay in the outbox for the next start', async () => {
    const inner = fakeInner();
    let release!: () => void;
    const hanging = { ...inner.store, writeReadings: () => new Promise<void>((resolve) => (release = resolve)) } as Store;
    const store = createBufferedStore(hanging, createOutbox({ dataDir, logger }), { logger, closeFlushMs: 300 });
    await store.init();
    await store.writeReadings(readings(30));
    const started = Date.now();
    await store.close();
    const tookMs = Date.now() - started;
    expect(tookMs).toBeLessThan(2000);
    release(); // the write InfluxDB finally answers must not touch the closed outbox
    await new Promise((r) => setTimeout(r, 20));
    const reopened = createOutbox({ dataDir, logger });
    expect(reopened.depth()).toBe(30);
    reopened.close();
  });

  it('starts while InfluxDB is unreachable, accepts readings, and prepares and fills it once it answers; wrong credentials still stop start-up', async () => {
    const inner = fakeInner();
    const init = { fail: 'unreachable' as 'unreachable' | 'auth' | undefined, calls: 0 };
    const starting = {
      ...inner.store,
      init: async () => {
        init.calls++;
        if (init.fail === 'unreachable') throw new StoreError('STORE_UNREACHABLE', 'InfluxDB at http://x is not reachable (ECONNREFUSED): start it or fix INFLUX_URL', true);
        if (init.fail === 'auth') throw new StoreError('STORE_AUTH', 'InfluxDB refused the credentials');
      },
    } as Store;
    const store = createBufferedStore(starting, createOutbox({ dataDir, logger }), { logger, clock: fakeClock().clock });
    await store.init();
    expect(store.stats().lastError).toContain('not reachable');
    await store.writeReadings(readings(10));
    init.fail = undefined;
    await store.flush(5000);
    expect(inner.values()).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(init.calls).toBeGreaterThanOrEqual(2); // prepared again before the first write
    await store.close();

    init.fail = 'auth';
    const refused = createBufferedStore(starting, createOutbox({ dataDir, logger }), { logger });
    await expect(refused.init()).rejects.toMatchObject({ code: 'STORE_AUTH' });
    await refused.close();
  });

  it('gives up flushing after the timeout and says how much is still waiting', async () => {
    const inner = fakeInner();
    inner.state.down = true;
    const store = await open(inner.store, { clock: fakeClock().clock });
    await store.writeReadings(readings(3));
    await expect(store.flush(100)).rejects.toMatchObject({ code: 'STORE_WRITE', message: expect.stringMatching(/outbox still holds 3 readings after 100 ms \(last error: .*not reachable/) });
    await store.close();
  });
});

describe('buffered store against a real InfluxDB that goes down and comes back', () => {
  let influxd: Influxd;
  let dataDir: string;
  let store: BufferedStore;
  let delivered: number[];

  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
  });
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'farm-outbox-'));
  });
  afterEach(async () => {
    await store?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function open(database: string) {
    const influx = createInfluxStore({ kind: 'influx-v1', url: influxd.url, database, timeoutMs: 2000 }, { logger });
    delivered = [];
    // Records what InfluxDB confirmed, to check the order of delivery.
    const recording: Store = {
      ...influx,
      writeReadings: async (batch) => {
        await influx.writeReadings(batch);
        delivered.push(...batch.map((r) => r.metrics.nh3));
      },
    };
    store = createBufferedStore(recording, createOutbox({ dataDir, logger }), { logger, batchSize: 500, retryMinMs: 50, retryMaxMs: 500 });
    await store.init();
  }

  const count = async (database: string, field = 'nh3') => {
    const [result] = await influxql(influxd.url, `SELECT count("${field}") FROM "telemetry"`, { db: database });
    return (result.series?.[0].values[0][1] as number | undefined) ?? 0;
  };

  it('accepts readings during the outage and stores every one exactly once, in order, after it', async () => {
    await open('outage');
    await store.writeReadings(readings(100));
    await store.flush(10_000);
    await influxd.pause();
    for (let i = 1; i <= 20; i++) await store.writeReadings(readings(100, i * 100));
    expect(store.stats().outboxDepth).toBe(2000);
    await new Promise((r) => setTimeout(r, 300));
    expect(store.stats().failedAttempts).toBeGreaterThan(0);
    expect(store.stats().lastError).toContain(`InfluxDB at ${influxd.url} is not reachable`);
    await influxd.resume();
    await store.flush(30_000);
    expect(await count('outage')).toBe(2100);
    expect(delivered).toEqual(Array.from({ length: 2100 }, (_, i) => i));
    expect(store.stats()).toMatchObject({ outboxDepth: 0, writtenTotal: 2100, dead: 0 });
  });

  it('moves a reading InfluxDB refuses (400 field type conflict) to the dead table and stores the rest', async () => {
    await open('refused');
    await fetch(`${influxd.url}/query?q=${encodeURIComponent('CREATE DATABASE "refused"')}`, { method: 'POST' });
    // rain_mm first written as a string: InfluxDB will refuse float rain_mm in this shard.
    await fetch(`${influxd.url}/write?db=refused&precision=ms`, { method: 'POST', body: `telemetry,site=x,zone=y,kind=drain,device=z rain_mm="heavy" ${BASE}` });
    const batch = readings(300);
    batch[123] = reading('drain-a-1', BASE + 123_000, { nh3: 123, rain_mm: 4 });
    await store.writeReadings(batch);
    await store.flush(10_000);
    expect(store.stats()).toMatchObject({ outboxDepth: 0, dead: 1 });
    expect(await count('refused')).toBe(299);
    expect(delivered.filter((v) => v !== 123)).toEqual(Array.from({ length: 300 }, (_, i) => i).filter((i) => i !== 123));
  });
});
