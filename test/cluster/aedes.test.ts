import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerPart } from '../../app/parts/broker.js';
import type { PartContext, PartHandle } from '../../app/parts/context.js';
import { startIngestPart } from '../../app/parts/ingest.js';
import { EnvSettings } from '../../core/config/env.js';
import { loadFarmConfig } from '../../core/config/load.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics } from '../../core/observability.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { DEMO_CONFIG } from '../helpers/service.js';
import { SERVICE_PASSWORD } from './helpers.js';

/**
 * What the embedded aedes broker (npm start -- --only broker) really does in split mode: it speaks MQTT 3.1.1
 * only, and a `$share/...` filter is taken literally, so it never receives device messages. The ingest
 * process notices (no v5) and subscribes plainly instead; one ingest process then stores everything.
 */
describe('split mode on the embedded aedes broker', () => {
  let dir: string;
  let mqttPort: number;
  const handles: PartHandle[] = [];
  const clients: mqtt.MqttClient[] = [];
  const ingestMetrics = createMetrics();

  const ctx = (part: string, env: Record<string, string>, metrics = createMetrics()): PartContext => ({
    part,
    env: EnvSettings.parse({ MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', BATCH_INTERVAL: '20ms', ...env }),
    config: loadFarmConfig(DEMO_CONFIG),
    logger: silentLogger(),
    metrics,
    instance: `${part}-test`,
  });
  const serviceClient = (protocolVersion: 4 | 5) =>
    new Promise<{ client: mqtt.MqttClient; error?: Error & { code?: number } }>((resolve) => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
        username: 'farm-service',
        password: SERVICE_PASSWORD,
        protocolVersion,
        reconnectPeriod: 0,
      });
      clients.push(client);
      client.once('connect', () => resolve({ client }));
      client.once('error', (error) => resolve({ client, error }));
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'farm-aedes-'));
    mqttPort = await freePort();
    handles.push(await startBrokerPart(ctx('broker', { MQTT_PORT: String(mqttPort), MQTT_HOST: '127.0.0.1' })));
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const h of handles.reverse()) await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses MQTT v5 connections (CONNACK "unacceptable protocol version")', async () => {
    const { error } = await serviceClient(5);
    expect(error?.code).toBe(1);
  });

  it('grants a $share/... subscription but delivers no device message to it, only to plain subscribers', async () => {
    const { client: shared } = await serviceClient(4);
    const { client: plain } = await serviceClient(4);
    const got = { shared: 0, plain: 0 };
    shared.on('message', () => got.shared++);
    plain.on('message', () => got.plain++);
    const granted = await shared.subscribeAsync('$share/ingest/farm/+/+/+/telemetry', { qos: 1 });
    expect(granted[0].qos).toBe(1);
    await plain.subscribeAsync('farm/+/+/+/telemetry', { qos: 1 });
    const dev = await connectDevice(mqttPort, 'shed-3-env', 'dev-only-shed-3-env');
    for (let i = 0; i < 5; i++)
      await dev.publishAsync('farm/huyang/shed-3/shed-3-env/telemetry', JSON.stringify({ metrics: { temperature: 20 + i } }), { qos: 1 });
    await waitFor(() => got.plain === 5 || undefined, 'the plain subscriber to get all five');
    await new Promise((r) => setTimeout(r, 300));
    expect(got.shared).toBe(0);
    await endClient(dev);
  });

  it('an ingest process falls back to MQTT 3.1.1 with a plain subscription and stores every reading', async () => {
    const dataDir = join(dir, 'ingest');
    const ingest = await startIngestPart(
      ctx('ingest', { MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`, DATA_DIR: dataDir, INSTANCE_ID: 'ingest-1' }, ingestMetrics),
    );
    handles.push(ingest);
    expect(ingest.ready.shareGroup).toBeNull();
    const dev = await connectDevice(mqttPort, 'shed-4-env', 'dev-only-shed-4-env');
    const t0 = Date.now() - 10_000;
    for (let i = 0; i < 20; i++)
      await dev.publishAsync('farm/huyang/shed-4/shed-4-env/telemetry', JSON.stringify({ ts: t0 + i, metrics: { temperature: 20 } }), { qos: 1 });
    await endClient(dev);
    const accepted = async () => (await ingestMetrics.accepted.get()).values[0]?.value ?? 0;
    await waitFor(async () => (await accepted()) === 20 || undefined, 'ingest to accept 20 readings');
    await ingest.stop();
    handles.pop();
    const store = createSqliteStore({ dataDir, logger: silentLogger() });
    await store.init();
    const points = await store.raw({ device: 'shed-4-env', metric: 'temperature', from: t0 - 1, to: t0 + 100 });
    await store.close();
    expect(points).toHaveLength(20);
  });
});
