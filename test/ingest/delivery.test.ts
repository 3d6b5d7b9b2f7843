import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics } from '../../core/observability.js';
import { createIngest, UNSETTLED_BATCHES, type Ingest } from '../../ingest/ingest.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import type { Store } from '../../store/store.js';
import { DEMO_CONFIG, SHED1_ENV } from '../helpers/service.js';

/**
 * When ingest lets a message go: a QoS 1 reading only once it is durable (its PUBACK waits), a QoS 0 reading as
 * soon as it is queued for the store, unless too much is already waiting for the store (then the device is held
 * back). The store is the real SQLite store; only its writes are held at a gate, to stop time between "queued" and
 * "durable" (a slow disk cannot be made to order).
 */
const BATCH = 5;
const config = loadFarmConfig(DEMO_CONFIG);
const farm = indexFarm(config);
const topic = SHED1_ENV.topic;
const base = Date.now() - 60_000;
const payload = (i: number) => Buffer.from(JSON.stringify({ ts: base + i, metrics: { temperature: 20 } }));

/** A promise's state without waiting for it: pending until it settled, after the microtasks queued so far ran. */
function tracked(p: Promise<unknown>) {
  const t = { settled: false };
  p.then(
    () => (t.settled = true),
    () => (t.settled = true),
  );
  return t;
}
const microtasks = () => new Promise((r) => setImmediate(r));

describe('ingest: how long a message is held (QoS 0 and 1)', () => {
  let dir: string;
  let store: Store;
  let ingest: Ingest;
  let open: () => void;
  let writesStarted: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'farm-delivery-'));
    store = createSqliteStore({ dataDir: dir, logger: silentLogger() });
    await store.init();
    let gate = new Promise<void>((resolve) => (open = resolve));
    writesStarted = 0;
    const gated: Store = {
      ...store,
      kind: store.kind,
      writeReadings: async (readings) => {
        writesStarted++;
        await gate;
        return store.writeReadings(readings);
      },
    };
    ingest = createIngest(
      { farm: () => farm, store: gated, bus: new FarmBus(), logger: silentLogger(), metrics: createMetrics() },
      { topicRoot: 'farm', maxPayloadBytes: 65536, maxFutureMs: 300_000, maxPastMs: 86_400_000, batchSize: BATCH, batchIntervalMs: 1, rejectsKept: 10 },
    );
    // Re-arm after each opening, so each test decides when the disk answers.
    const first = open;
    open = () => {
      first();
      gate = Promise.resolve();
    };
  });

  afterEach(async () => {
    open();
    await ingest.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a QoS 1 reading until it is durable, and counts it as accepted only then', async () => {
    const handled = ingest.handleMessage(topic, payload(1), SHED1_ENV.id, { qos: 1 });
    const state = tracked(handled);
    while (writesStarted === 0) await microtasks();
    await microtasks();
    expect(state.settled).toBe(false);
    expect(ingest.stats().accepted).toBe(0);
    open();
    await handled;
    expect(ingest.stats().accepted).toBe(1);
    expect(await store.raw({ device: SHED1_ENV.id, from: base, to: base + 10 })).toHaveLength(1);
  });

  it('lets a QoS 0 reading go once queued, while the store has not written it yet, and still stores it', async () => {
    await ingest.handleMessage(topic, payload(1), SHED1_ENV.id, { qos: 0 });
    expect(ingest.stats().accepted).toBe(0);
    open();
    await ingest.flush();
    expect(ingest.stats().accepted).toBe(1);
    expect(await store.raw({ device: SHED1_ENV.id, from: base, to: base + 10 })).toHaveLength(1);
  });

  it(`holds QoS 0 readings back once more than ${UNSETTLED_BATCHES} batches wait for the store, and stores every one in order`, async () => {
    const limit = UNSETTLED_BATCHES * BATCH;
    const n = limit + 3;
    const handled: Promise<void>[] = [];
    for (let i = 0; i < n; i++) handled.push(ingest.handleMessage(topic, payload(i), SHED1_ENV.id, { qos: 0 }));
    const states = handled.map(tracked);
    await Promise.all(handled.slice(0, limit));
    await microtasks();
    expect(states.slice(limit).map((s) => s.settled)).toEqual([false, false, false]);
    open();
    await Promise.all(handled);
    await ingest.flush();
    const stored = await store.raw({ device: SHED1_ENV.id, metric: 'temperature', from: base, to: base + n });
    expect(stored.map((p) => p.ts)).toEqual(Array.from({ length: n }, (_, i) => base + i));
    expect(ingest.stats().accepted).toBe(n);
  });
});
