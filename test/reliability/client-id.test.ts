import mqtt, { type MqttClient } from 'mqtt';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient, tryConnect } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { SHED1_ENV, SHED2_ENV, startTestService } from '../helpers/service.js';

/**
 * Client-id takeover over real sockets: MQTT closes the older connection of a client id, so whoever may connect
 * under another's id can knock it off. A device tries the client id of a service component (`ingest-1`, as in
 * docker-compose) again and again; the service component must stay connected and keep receiving, and its own
 * reconnects must never trip the reconnect-rate ban.
 */
const SERVICE_PASSWORD = 'test-only-service-password';
const MAX_CONNECTS = 5;
let svc: Awaited<ReturnType<typeof startTestService>>;
beforeAll(async () => {
  svc = await startTestService({ env: { MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD, MQTT_MAX_CONNECTS_PER_MINUTE: String(MAX_CONNECTS) } });
});
afterAll(() => svc?.cleanup());

function connectService(clientId: string): Promise<MqttClient> {
  return connectDevice(svc.mqttPort, clientId, SERVICE_PASSWORD, { username: 'farm-service', clean: true });
}

async function authFailures(reason: string): Promise<number> {
  return (await svc.metrics.authFailures.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function refused(reason: string): Promise<number> {
  const counter = svc.metrics.registry.getSingleMetric('farm_mqtt_connections_refused_total') as Counter<'reason'>;
  return (await counter.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('client ids bound to their identity', () => {
  it("refuses a device taking a service component's client id, again and again, while the component stays connected and receives", async () => {
    const ingest = await connectService('ingest-1');
    let closes = 0;
    ingest.on('close', () => closes++);
    const received: string[] = [];
    ingest.on('message', (_topic, payload) => received.push(payload.toString()));
    await ingest.subscribeAsync('farm/+/+/+/telemetry', { qos: 1 });
    const sender = await connectDevice(svc.mqttPort, SHED2_ENV.id, SHED2_ENV.secret);

    const before = await authFailures('foreign_client_id');
    for (let i = 0; i < 10; i++) {
      expect(await tryConnect(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret, 'ingest-1'), `attempt ${i}`).toMatchObject({ connected: false, code: 2 });
      const payload = JSON.stringify({ ts: Date.now() - 1000 - i, metrics: { nh3: i } });
      await sender.publishAsync(SHED2_ENV.topic, payload, { qos: 1 });
      await waitFor(() => received.includes(payload) || undefined, `reading ${i} to reach the service component`);
    }
    expect(closes).toBe(0);
    expect(ingest.connected).toBe(true);
    expect(await authFailures('foreign_client_id')).toBe(before + 10);

    // Another device's id and ids made to look like one are refused too; the device's own `<id>/<suffix>` is its own.
    for (const clientId of [SHED2_ENV.id, `${SHED2_ENV.id}/x`, `${SHED1_ENV.id}-2`])
      expect(await tryConnect(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret, clientId), clientId).toMatchObject({ connected: false, code: 2 });
    expect(await tryConnect(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret, `${SHED1_ENV.id}/backup`)).toEqual({ connected: true });
    // And a service component cannot take a device's client id either.
    expect(await tryConnect(svc.mqttPort, 'farm-service', SERVICE_PASSWORD, SHED1_ENV.id)).toMatchObject({ connected: false, code: 2 });

    await endClient(sender);
    await endClient(ingest);
  });

  it('never bans a service component for reconnecting, while a device reconnecting as often is banned', async () => {
    for (let i = 0; i < MAX_CONNECTS * 3; i++) {
      const client = await connectService('rules-farm');
      await endClient(client);
    }
    expect(await refused('flapping')).toBe(0);
    // The same rate from a device (one no other test here connects) is a reconnect loop.
    const results: boolean[] = [];
    for (let i = 0; i < MAX_CONNECTS + 1; i++) results.push((await tryConnect(svc.mqttPort, 'shed-3-env', 'dev-only-shed-3-env', 'shed-3-env')).connected);
    expect(results).toEqual([...Array(MAX_CONNECTS).fill(true), false]);
    expect(await refused('flapping')).toBe(1);
  });

  it('refuses a client id longer than 128 characters with CONNACK 2, before the secret is checked', async () => {
    const before = await authFailures('client_id_too_long');
    expect(await tryConnect(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret, `${SHED1_ENV.id}/${'x'.repeat(200)}`)).toMatchObject({ connected: false, code: 2 });
    expect(await tryConnect(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret, `${SHED1_ENV.id}/${'x'.repeat(128 - SHED1_ENV.id.length - 1)}`)).toEqual({
      connected: true,
    });
    expect(await authFailures('client_id_too_long')).toBe(before + 1);
  });

  it('lets a device connect with an empty client id (the broker assigns one) and publish', async () => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${svc.mqttPort}`, {
      clientId: '',
      clean: true,
      username: SHED1_ENV.id,
      password: SHED1_ENV.secret,
      reconnectPeriod: 0,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const ts = Date.now() - 2000;
    await client.publishAsync(SHED1_ENV.topic, JSON.stringify({ ts, metrics: { nh3: 7 } }), { qos: 1 });
    await client.endAsync();
    expect(await svc.store.raw({ device: SHED1_ENV.id, metric: 'nh3', from: ts, to: ts + 1 })).toMatchObject([{ value: 7 }]);
  });
});
