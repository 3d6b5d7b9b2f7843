import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareIngestConsumer, subscribeDeviceTopics } from '../../cluster/ingest-consumer.js';
import { connectServiceClient, type ServiceClient } from '../../cluster/service-client.js';
import type { Reading } from '../../core/domain.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { loadFarmConfig } from '../../core/config/load.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics } from '../../core/observability.js';
import { createIngest, type Ingest } from '../../ingest/ingest.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import type { Store } from '../../store/store.js';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { DEMO_CONFIG } from '../helpers/service.js';
import { SERVICE_PASSWORD, startMosquitto, type Proc } from './helpers.js';

/**
 * An ingest process acknowledges a reading to Mosquitto only once it is durable. A process that dies before
 * that gets the readings again when it comes back under the same INSTANCE_ID (its persistent MQTT session);
 * readings it had made durable are not delivered again. The store is the real SQLite store; only its
 * write is held back by a gate, to stop time between "received" and "durable".
 */
describe('ingest acknowledges to the broker only what is durable', () => {
  let dir: string;
  let mosquitto: Proc & { port: number };
  let store: Store;
  const config = loadFarmConfig(DEMO_CONFIG);
  const farm = indexFarm(config);

  const startIngest = async (gate: Promise<void>, failFirstWrites = 0) => {
    const bus = new FarmBus();
    const readings: Reading[] = [];
    bus.on('reading', (r) => readings.push(r));
    let failures = failFirstWrites;
    const gated: Store = {
      ...store,
      kind: store.kind,
      writeReadings: async (r) => {
        await gate;
        if (failures-- > 0) throw new Error('disk full (simulated)');
        return store.writeReadings(r);
      },
    };
    const ingest: Ingest = createIngest(
      { farm: () => farm, store: gated, bus, logger: silentLogger(), metrics: createMetrics() },
      { topicRoot: 'farm', maxPayloadBytes: 65536, maxFutureMs: 300_000, maxPastMs: 86_400_000, batchSize: 1000, batchIntervalMs: 10, rejectsKept: 10 },
    );
    const svc: ServiceClient = await connectServiceClient({
      url: `mqtt://127.0.0.1:${mosquitto.port}`,
      username: 'farm-service',
      password: SERVICE_PASSWORD,
      clientId: 'ingest-under-test',
      persistentSession: true,
      logger: silentLogger(),
      prepare: (client) => prepareIngestConsumer(client, ingest, silentLogger()),
    });
    await subscribeDeviceTopics(svc.client, { topicRoot: 'farm', shareGroup: 'ingest', instance: 'ingest-under-test' });
    return { svc, readings, ingest };
  };
  const stored = async (t0: number) => (await store.raw({ device: 'shed-1-env', metric: 'temperature', from: t0 - 1, to: t0 + 1000 })).length;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'farm-acks-'));
    mosquitto = await startMosquitto(join(dir, 'mosquitto'));
    store = createSqliteStore({ dataDir: join(dir, 'data'), logger: silentLogger() });
    await store.init();
  });

  afterAll(async () => {
    await store?.close();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('readings received but not yet durable are delivered again after the ingest process dies', async () => {
    const never = new Promise<void>(() => {});
    const first = await startIngest(never);
    const dev = await connectDevice(mosquitto.port, 'shed-1-env', 'dev-only-shed-1-env');
    const t0 = Date.now() - 5000;
    for (let i = 0; i < 5; i++)
      await dev.publishAsync('farm/huyang/shed-1/shed-1-env/telemetry', JSON.stringify({ ts: t0 + i, metrics: { temperature: 20 } }), { qos: 1 });
    await waitFor(() => first.readings.length === 5 || undefined, 'the first ingest to receive all five');
    expect(await stored(t0)).toBe(0);
    first.svc.client.end(true); // dies: nothing durable, nothing acknowledged

    const second = await startIngest(Promise.resolve());
    await waitFor(async () => (await stored(t0)) === 5 || undefined, 'the five readings stored by the restarted ingest');
    expect(second.readings.map((r) => r.ts).sort()).toEqual([0, 1, 2, 3, 4].map((i) => t0 + i));

    // Durable readings were acknowledged: a further restart gets nothing again.
    second.svc.client.end(true);
    const third = await startIngest(Promise.resolve());
    await new Promise((r) => setTimeout(r, 1000));
    expect(third.readings).toHaveLength(0);
    await third.svc.end();
    await endClient(dev);
  });

  it('a reading whose store write failed is not acknowledged, and arrives again after ingest reconnects', async () => {
    const ingest = await startIngest(Promise.resolve(), 1);
    const dev = await connectDevice(mosquitto.port, 'shed-1-env', 'dev-only-shed-1-env');
    const t0 = Date.now() - 2000;
    await dev.publishAsync('farm/huyang/shed-1/shed-1-env/telemetry', JSON.stringify({ ts: t0, metrics: { temperature: 21 } }), { qos: 1 });
    await waitFor(async () => (await stored(t0)) === 1 || undefined, 'the reading stored on its second delivery', 20_000);
    expect(ingest.readings.length).toBeGreaterThanOrEqual(2); // seen twice: the failed write, then the redelivery
    await ingest.svc.end();
    await endClient(dev);
  });
});
