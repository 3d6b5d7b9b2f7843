import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertEvent, Reading } from '../../core/domain.js';
import { silentLogger } from '../../core/logger.js';
import { createBufferedStore, type BufferedStore, type DrainClock } from '../../store/buffered-store.js';
import { createInfluxStore } from '../../store/influx-store.js';
import { createOutbox } from '../../store/outbox.js';
import { StoreError, type CommandRecord, type Store } from '../../store/store.js';
import { influxql, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { BASE, alert, commandRecord, reading, tagRead } from './contract.js';

const logger = silentLogger();
const readings = (n: number, from = 0) => Array.from({ length: n }, (_, i) => reading('shed-1-env', BASE + (from + i) * 1000, { nh3: from + i }));

/**
 * An inner store that records delivered batches and fails on demand. `writes` is every successful write of
 * any kind in the order it happened, as a short label per item: 3 for the reading nh3=3, 'a1' for alert a1,
 * 'cmd@ts' for a command record.
 */
function fakeInner() {
  const delivered: Reading[][] = [];
  const writes: { kind: string; items: (number | string)[]; keys?: readonly number[] }[] = [];
  const state = { down: false, refuse: (_: Reading) => false, refuseAlert: (_: AlertEvent) => false };
  const check = (bad: boolean) => {
    if (state.down) throw new StoreError('STORE_WRITE', 'InfluxDB at http://x is not reachable (ECONNREFUSED)', true);
    if (bad) throw new StoreError('STORE_WRITE', 'InfluxDB rejected the write (400 field type conflict)', false);
  };
  const store = {
    kind: 'influx-v1',
    init: async () => {},
    async writeReadings(batch: Reading[]) {
      check(batch.some(state.refuse));
      delivered.push(batch);
      writes.push({ kind: 'reading', items: batch.map((r) => r.metrics.nh3) });
    },
    async writeAlerts(events: AlertEvent[], o?: { keys?: readonly number[] }) {
      check(events.some(state.refuseAlert));
      writes.push({ kind: 'alert', items: events.map((e) => e.id), keys: o?.keys });
    },
    async writeCommands(records: CommandRecord[], o?: { keys?: readonly number[] }) {
      check(false);
      writes.push({ kind: 'command', items: records.map((c) => `cmd@${c.ts}`), keys: o?.keys });
    },
    close: async () => {},
  } as unknown as Store;
  return { store, delivered, writes, state, values: () => delivered.flat().map((r) => r.metrics.nh3), items: () => writes.flatMap((w) => w.items) };
}

const alertAt = (id: string, i = 0) => alert({ id, ts: BASE + i * 1000 });

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

  it('holds writers back while a healthy store is far behind, and lets them through once it catches up', async () => {
    const inner = fakeInner();
    // InfluxDB that takes writes only when the test opens the gate: the backlog cannot shrink meanwhile.
    let openGate: () => void = () => {};
    let gate = new Promise<void>((r) => (openGate = r));
    const deliver = inner.store.writeReadings.bind(inner.store);
    inner.store.writeReadings = async (batch) => {
      await gate;
      return deliver(batch);
    };
    const store = createBufferedStore(inner.store, createOutbox({ dataDir, logger }), { logger, batchSize: 10, highWaterEntries: 100 });
    await store.init();
    await store.writeReadings(readings(60)); // under the high-water mark: durable and resolved at once
    let released = false;
    const held = store.writeReadings(readings(60, 60)).then(() => (released = true)); // 120 > 100: must wait
    await new Promise((r) => setTimeout(r, 50));
    expect(released).toBe(false);
    expect(store.stats()).toMatchObject({ outboxDepth: 120, backpressureWaits: 1 });
    openGate();
    await held;
    expect(store.stats().outboxDepth).toBeLessThanOrEqual(50); // released at half the mark
    await store.flush(5000);
    expect(inner.values()).toEqual(readings(120).map((r) => r.metrics.nh3));
    gate = Promise.resolve();
    await store.close();
  });

  it('never holds writers back while the store is failing: the outbox takes the outage', async () => {
    const inner = fakeInner();
    const { clock } = fakeClock();
    inner.state.down = true;
    const store = createBufferedStore(inner.store, createOutbox({ dataDir, logger }), { logger, batchSize: 10, highWaterEntries: 100, clock });
    await store.init();
    await store.writeReadings(readings(10));
    await new Promise((r) => setTimeout(r, 20)); // the first attempt fails
    for (let i = 1; i < 30; i++) await store.writeReadings(readings(10, i * 10)); // 300 entries, 3x the mark
    expect(store.stats()).toMatchObject({ outboxDepth: 300, backpressureWaits: 0 });
    inner.state.down = false;
    await store.flush(5000);
    expect(inner.values()).toHaveLength(300);
    await store.close();
  });

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
    expect(reopened.peekRun(1)).toEqual({ kind: 'reading', values: [readings(1)[0]], seqs: [1] });
    await reopened.close();
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
    await reopened.close();
  });

  it('a second close() while the first is still sending the backlog neither sends it twice nor closes the outbox under it', async () => {
    const inner = fakeInner();
    const store = createBufferedStore(inner.store, createOutbox({ dataDir, logger }), { logger, batchSize: 10 });
    await store.init();
    await store.writeReadings(readings(100));
    await Promise.all([store.close(), store.close()]);
    expect(inner.values()).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const reopened = createOutbox({ dataDir, logger });
    expect(reopened.depth()).toBe(0);
    await reopened.close();
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
    await reopened.close();
  });

  it('starts while InfluxDB is unreachable, accepts readings, and prepares and fills it once it answers; wrong credentials still stop start-up', async () => {
    const inner = fakeInner();
    const init = { fail: 'unreachable' as 'unreachable' | 'auth' | undefined, calls: 0 };
    const starting = {
      ...inner.store,
      init: async () => {
        init.calls++;
        if (init.fail === 'unreachable')
          throw new StoreError('STORE_UNREACHABLE', 'InfluxDB at http://x is not reachable (ECONNREFUSED): start it or fix INFLUX_URL', true);
        if (init.fail === 'auth') throw new StoreError('STORE_AUTH', 'InfluxDB refused the credentials');
      },
    };
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

  it('delivers readings, alert events and command records in the order they were written, each run of one kind as one write', async () => {
    const inner = fakeInner();
    inner.state.down = true;
    const store = await open(inner.store, { clock: fakeClock().clock });
    await store.writeReadings(readings(3));
    await store.writeAlerts([alertAt('a1')]);
    await store.writeCommands([commandRecord('shed-1-env', BASE)]);
    await store.writeReadings(readings(2, 3));
    await store.writeAlerts([alertAt('a2'), alertAt('a3')]);
    await store.writeAlerts([alertAt('a4')]);
    await store.writeReadings(readings(4, 5));
    // All on disk while the store is down, counted by kind for /health.
    expect(store.stats()).toMatchObject({ outboxDepth: 14, outboxDepthByKind: { reading: 9, alert: 4, command: 1 } });
    inner.state.down = false;
    await store.flush(5000);
    expect(inner.writes.map((w) => [w.kind, w.items])).toEqual([
      ['reading', [0, 1, 2]],
      ['alert', ['a1']],
      ['command', [`cmd@${BASE}`]],
      ['reading', [3, 4]],
      ['alert', ['a2', 'a3', 'a4']], // two writeAlerts calls in a row go out as one write
      ['reading', [5, 6, 7, 8]],
    ]);
    // Alerts and commands carry their place in the outbox, so InfluxDB stores one sent twice only once.
    expect(inner.writes.filter((w) => w.kind !== 'reading').map((w) => w.keys)).toEqual([[4], [5], [8, 9, 10]]);
    expect(store.stats()).toMatchObject({ outboxDepth: 0, outboxDepthByKind: { reading: 0, alert: 0, command: 0, tagRead: 0 }, writtenTotal: 14 });
    await store.close();
  });

  it('keeps a mixed backlog across a restart and delivers it, in order, before start-up completes', async () => {
    const inner = fakeInner();
    inner.state.down = true;
    const first = await open(inner.store, { clock: fakeClock().clock });
    await first.writeReadings(readings(2));
    await first.writeAlerts([alertAt('raised')]);
    await first.writeCommands([commandRecord('shed-1-env', BASE + 1)]);
    await first.writeAlerts([alertAt('acknowledged')]);
    await first.writeReadings(readings(2, 2));
    await first.close();
    expect(inner.writes).toEqual([]);

    inner.state.down = false;
    const second = await open(inner.store);
    // init() resolved: the backlog is already in the store, so the rules engine's restart recovery reads it.
    expect(inner.items()).toEqual([0, 1, 'raised', `cmd@${BASE + 1}`, 'acknowledged', 2, 3]);
    await second.writeAlerts([alertAt('cleared')]);
    await second.flush(5000);
    expect(inner.items()).toEqual([0, 1, 'raised', `cmd@${BASE + 1}`, 'acknowledged', 2, 3, 'cleared']);
    await second.close();
  });

  it('does not hold start-up for a backlog when InfluxDB answers but refuses writes: the backlog waits in the outbox', async () => {
    const inner = fakeInner();
    inner.state.down = true;
    const first = await open(inner.store, { clock: fakeClock().clock });
    await first.writeAlerts([alertAt('a1')]);
    await first.close();
    // init() succeeds (InfluxDB answers /ping) but every write fails: start-up gives up on the first failure.
    const started = Date.now();
    const second = await open(inner.store, { clock: fakeClock().clock });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(second.stats()).toMatchObject({ outboxDepth: 1, outboxDepthByKind: { alert: 1 }, lastError: expect.stringContaining('not reachable') });
    inner.state.down = false;
    await second.flush(5000);
    expect(inner.items()).toEqual(['a1']);
    await second.close();
  });

  it('upgrades an outbox.db of the previous version (readings only) and delivers its backlog first', async () => {
    // The file as the previous version left it: its own schema, three readings waiting, one dead.
    const old = new Database(join(dataDir, 'outbox.db'));
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, appended_at INTEGER NOT NULL, json TEXT NOT NULL);
      CREATE TABLE dead (seq INTEGER PRIMARY KEY, appended_at INTEGER NOT NULL, failed_at INTEGER NOT NULL, reason TEXT NOT NULL, json TEXT NOT NULL);
    `);
    const insert = old.prepare('INSERT INTO outbox (appended_at, json) VALUES (?, ?)');
    for (const r of readings(4)) insert.run(Date.now() - 60_000, JSON.stringify(r));
    old.prepare('INSERT INTO dead SELECT seq, appended_at, ?, ?, json FROM outbox WHERE seq = 1').run(Date.now(), 'InfluxDB rejected the write (400)');
    old.prepare('DELETE FROM outbox WHERE seq = 1').run();
    old.close();

    const outbox = createOutbox({ dataDir, logger });
    expect(outbox.depthByKind()).toEqual({ reading: 3, alert: 0, command: 0, tagRead: 0 });
    expect(outbox.oldestAgeMs(Date.now())).toBeGreaterThanOrEqual(60_000);
    await outbox.close();

    const inner = fakeInner();
    const store = await open(inner.store);
    expect(inner.values()).toEqual([1, 2, 3]);
    await store.writeAlerts([alertAt('a1')]);
    await store.writeReadings(readings(1, 4));
    await store.flush(5000);
    expect(inner.items()).toEqual([1, 2, 3, 'a1', 4]);
    expect(store.stats()).toMatchObject({ dead: 1, outboxDepth: 0 });
    await store.close();

    const db = new Database(join(dataDir, 'outbox.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    const dead = db.prepare('SELECT kind, reason, json FROM dead').all() as { kind: string; reason: string; json: string }[];
    db.close();
    expect(dead.map((d) => [d.kind, JSON.parse(d.json).metrics.nh3, d.reason])).toEqual([['reading', 0, 'InfluxDB rejected the write (400)']]);
    // Opening the upgraded file again changes nothing.
    const again = createOutbox({ dataDir, logger });
    expect(again.depth()).toBe(0);
    await again.close();
  });

  it('sets aside only the alert event the store refuses; the readings and alerts behind it are delivered in order', async () => {
    const inner = fakeInner();
    inner.state.down = true;
    inner.state.refuseAlert = (e) => e.id === 'bad';
    const store = await open(inner.store, { clock: fakeClock().clock });
    await store.writeReadings(readings(3));
    await store.writeAlerts([alertAt('a1'), alertAt('bad'), alertAt('a2')]);
    await store.writeReadings(readings(3, 3));
    inner.state.down = false;
    await store.flush(5000);
    expect(inner.items()).toEqual([0, 1, 2, 'a1', 'a2', 3, 4, 5]);
    expect(store.stats()).toMatchObject({ outboxDepth: 0, dead: 1, writtenTotal: 8 });
    await store.close();
    const db = new Database(join(dataDir, 'outbox.db'), { readonly: true });
    const dead = db.prepare('SELECT kind, reason, json FROM dead').all() as { kind: string; reason: string; json: string }[];
    db.close();
    expect(dead.map((d) => [d.kind, JSON.parse(d.json).id])).toEqual([['alert', 'bad']]);
    expect(dead[0].reason).toContain('400');
  });

  it('gives up flushing after the timeout and says how much is still waiting', async () => {
    const inner = fakeInner();
    inner.state.down = true;
    const store = await open(inner.store, { clock: fakeClock().clock });
    await store.writeReadings(readings(3));
    await store.writeAlerts([alertAt('a1')]);
    await expect(store.flush(100)).rejects.toMatchObject({
      code: 'STORE_WRITE',
      message: expect.stringMatching(/outbox still holds 4 entries \(3 readings, 1 alert events\) after 100 ms \(last error: .*not reachable/),
    });
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

  async function open(database: string, wrap: (influx: Store) => Store = (s) => s) {
    const influx = wrap(createInfluxStore({ kind: 'influx-v1', url: influxd.url, database, timeoutMs: 2000 }, { logger }));
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

  const count = async (database: string, field = 'nh3', measurement = 'telemetry') => {
    const [result] = await influxql(influxd.url, `SELECT count("${field}") FROM "${measurement}"`, { db: database });
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

  it('accepts ear-tag reads during the outage, mixed with readings, and stores each exactly once after it (a redelivered read too)', async () => {
    await open('tags-outage');
    const tag = (i: number) => `982000${String(1_000_000_000 + i).slice(1)}`;
    const burst = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => tagRead('shed-1-gate', tag(from + i), BASE + 60_000 + (from + i) * 10, 'out'));
    await store.writeTagReads(burst(0, 50));
    await store.flush(10_000);
    await influxd.pause();
    for (let i = 1; i <= 10; i++) {
      await store.writeTagReads(burst(i * 50, 50));
      await store.writeReadings(readings(10, i * 10));
    }
    await store.writeTagReads(burst(100, 5)); // a reader sending again what it sent during the outage
    expect(store.stats().outboxDepthByKind).toMatchObject({ tagRead: 505, reading: 100 });
    await influxd.resume();
    await store.flush(30_000);
    expect(await count('tags-outage', 'direction', 'tag_read')).toBe(550);
    expect(await count('tags-outage')).toBe(100);
    const timeline = await store.tagReads({ tag: tag(123), from: BASE, to: BASE + 3_600_000 });
    expect(timeline).toEqual([tagRead('shed-1-gate', tag(123), BASE + 60_000 + 1230, 'out')]);
    expect(store.stats()).toMatchObject({ outboxDepth: 0, dead: 0 });
  });

  it('moves a reading InfluxDB refuses (400 field type conflict) to the dead table and stores the rest', async () => {
    await open('refused');
    await fetch(`${influxd.url}/query?q=${encodeURIComponent('CREATE DATABASE "refused"')}`, { method: 'POST' });
    // rain_mm first written as a string: InfluxDB will refuse float rain_mm in this shard.
    await fetch(`${influxd.url}/write?db=refused&precision=ms`, {
      method: 'POST',
      body: `telemetry,site=x,zone=y,kind=drain,device=z rain_mm="heavy" ${BASE}`,
    });
    const batch = readings(300);
    batch[123] = reading('drain-a-1', BASE + 123_000, { nh3: 123, rain_mm: 4 });
    await store.writeReadings(batch);
    await store.flush(10_000);
    expect(store.stats()).toMatchObject({ outboxDepth: 0, dead: 1 });
    expect(await count('refused')).toBe(299);
    expect(delivered.filter((v) => v !== 123)).toEqual(Array.from({ length: 300 }, (_, i) => i).filter((i) => i !== 123));
  });

  it('stores alert events and command records once when a write InfluxDB applied is sent again, and keeps their order within a millisecond', async () => {
    // The first alert write and the first command write reach InfluxDB but their answer is lost (as with a
    // timeout): the outbox sends them again.
    const lost = { alert: true, command: true };
    const lose = (kind: keyof typeof lost) => {
      if (!lost[kind]) return;
      lost[kind] = false;
      throw new StoreError('STORE_WRITE', `InfluxDB at ${influxd.url} is not reachable (timeout): write not confirmed, will retry`, true);
    };
    await open('resent', (influx) => ({
      ...influx,
      writeAlerts: async (events, o) => (await influx.writeAlerts(events, o), lose('alert')),
      writeCommands: async (records, o) => (await influx.writeCommands(records, o), lose('command')),
    }));
    await store.writeReadings(readings(5));
    // raised and acknowledged in the same millisecond: the acknowledgement was written later, so it is the newer.
    const raised = alert({ id: 'a1', ts: BASE + 1000 });
    const acknowledged = { ...raised, state: 'acknowledged' as const, by: 'ops' };
    await store.writeAlerts([raised]);
    await store.writeCommands([commandRecord('shed-1-env', BASE + 1000), commandRecord('shed-1-env', BASE + 1000, 'acked')]);
    await store.writeAlerts([acknowledged]);
    await store.flush(10_000);
    expect(store.stats()).toMatchObject({ outboxDepth: 0, failedAttempts: 2, dead: 0 });
    expect(await count('resent', 'json', 'alert')).toBe(2);
    expect(await count('resent', 'json', 'command')).toBe(2);
    expect(await store.alerts({})).toEqual([acknowledged, raised]);
    expect((await store.commands({})).map((c) => c.outcome)).toEqual(['acked', 'sent']);
  });
});

/**
 * The service's own wiring (app/store-factory.ts): readings wait in the outbox as the InfluxDB lines they will be
 * sent as. Against a real influxd: an outage, a refused line, and a backlog written as JSON by the version before.
 */
describe('buffered store keeping readings as InfluxDB lines', () => {
  let influxd: Influxd;
  let dataDir: string;
  let store: BufferedStore | undefined;
  /** nh3 of every line InfluxDB confirmed, in the order it confirmed them. */
  let delivered: number[];

  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
  });
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'farm-outbox-lines-'));
    delivered = [];
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  async function open(database: string, o: { lines?: boolean } = {}) {
    const influx = createInfluxStore({ kind: 'influx-v1', url: influxd.url, database, timeoutMs: 2000 }, { logger });
    const lines = {
      line: influx.readingLines.line,
      write: async (text: string) => {
        await influx.readingLines.write(text);
        for (const m of text.matchAll(/nh3=(\d+)/g)) delivered.push(Number(m[1]));
      },
    };
    const recording: Store = {
      ...influx,
      writeReadings: async (batch) => {
        await influx.writeReadings(batch);
        delivered.push(...batch.map((r) => r.metrics.nh3));
      },
    };
    store = createBufferedStore(recording, createOutbox({ dataDir, logger }), {
      logger,
      batchSize: 500,
      retryMinMs: 50,
      retryMaxMs: 500,
      lines: o.lines === false ? undefined : lines,
    });
    await store.init();
    return store;
  }
  const count = async (database: string) => {
    const [result] = await influxql(influxd.url, 'SELECT count("nh3") FROM "telemetry"', { db: database });
    return (result.series?.[0].values[0][1] as number | undefined) ?? 0;
  };
  const outboxKinds = () => {
    const db = new Database(join(dataDir, 'outbox.db'), { readonly: true });
    const kinds = db.prepare('SELECT kind, count(*) AS n FROM outbox GROUP BY kind').all();
    db.close();
    return kinds;
  };

  it('keeps readings as lines through an outage and stores each exactly once, in order, after it; they count as readings', async () => {
    const s = await open('lines_outage');
    await influxd.pause();
    for (let i = 0; i < 12; i++) await s.writeReadings(readings(100, i * 100));
    expect(outboxKinds()).toEqual([{ kind: 'readingLine', n: 1200 }]);
    expect(s.stats().outboxDepthByKind).toEqual({ reading: 1200, alert: 0, command: 0, tagRead: 0 });
    await influxd.resume();
    await s.flush(30_000);
    expect(await count('lines_outage')).toBe(1200);
    expect(delivered).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    expect(s.stats()).toMatchObject({ outboxDepth: 0, writtenTotal: 1200, dead: 0 });
  });

  it('sets aside only the line InfluxDB refuses (400 field type conflict) and stores the rest', async () => {
    const s = await open('lines_refused');
    await fetch(`${influxd.url}/write?db=lines_refused&precision=ms`, {
      method: 'POST',
      body: `telemetry,site=x,zone=y,kind=drain,device=z rain_mm="heavy" ${BASE}`,
    });
    const batch = readings(300);
    batch[123] = reading('drain-a-1', BASE + 123_000, { nh3: 123, rain_mm: 4 });
    await s.writeReadings(batch);
    await s.flush(10_000);
    expect(s.stats()).toMatchObject({ outboxDepth: 0, dead: 1 });
    expect(await count('lines_refused')).toBe(299);
    const dead = new Database(join(dataDir, 'outbox.db'), { readonly: true });
    expect(dead.prepare('SELECT kind, json FROM dead').all()).toEqual([
      { kind: 'readingLine', json: expect.stringMatching(/^telemetry,device=drain-a-1,.* nh3=123,rain_mm=4 /) },
    ]);
    dead.close();
  });

  it('after an upgrade, sends the JSON backlog left by the version before, then the lines, each once and in order', async () => {
    const before = await open('lines_upgrade', { lines: false });
    await influxd.pause();
    await before.writeReadings(readings(250));
    await before.close();
    store = undefined;
    const after = await open('lines_upgrade');
    await after.writeReadings(readings(250, 250));
    expect(outboxKinds()).toEqual([
      { kind: 'reading', n: 250 },
      { kind: 'readingLine', n: 250 },
    ]);
    await influxd.resume();
    await after.flush(30_000);
    expect(await count('lines_upgrade')).toBe(500);
    expect(delivered).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});
