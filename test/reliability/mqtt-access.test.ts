import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { closed, connectDevice, endClient, tryConnect } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { SHED1_ENV, SHED1_FAN, startTestService } from '../helpers/service.js';

/**
 * MQTT access control beyond what test/e2e/refusals.test.ts checks: the service's own credentials, $SYS,
 * wildcard subscriptions that would cover a device's own cmd topic and more, and what a device may have retained.
 */
const SERVICE_PASSWORD = 'test-only-service-password';
let svc: Awaited<ReturnType<typeof startTestService>>;
beforeAll(async () => {
  svc = await startTestService({ env: { MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD } });
});
afterAll(() => svc?.cleanup());

describe('MQTT access beyond device credentials', () => {
  it('refuses the service user name with a wrong password, and lets it in with the right one', async () => {
    expect(await tryConnect(svc.mqttPort, 'farm-service', 'guess')).toMatchObject({ connected: false, code: 4 });
    expect(await tryConnect(svc.mqttPort, 'farm-service', SERVICE_PASSWORD)).toEqual({ connected: true });
  });

  it('refuses the service user name altogether when no service password is configured', async () => {
    const bare = await startTestService();
    try {
      expect(await tryConnect(bare.mqttPort, 'farm-service', '')).toMatchObject({ connected: false });
      expect(await tryConnect(bare.mqttPort, 'farm-service', 'farm-service')).toMatchObject({ connected: false, code: 5 });
    } finally {
      await bare.cleanup();
    }
  });

  it('refuses a device subscribing to $SYS or to wildcards, even ones that would include its own cmd topic', async () => {
    const fan = await connectDevice(svc.mqttPort, SHED1_FAN.id, SHED1_FAN.secret);
    const granted = (topic: string) =>
      fan.subscribeAsync(topic, { qos: 1 }).then(
        (grants) => grants[0].qos,
        (err: Error & { packet?: { granted: number[] } }) => err.packet?.granted[0],
      );
    for (const topic of ['$SYS/#', 'farm/huyang/shed-1/shed-1-fan/+', 'farm/huyang/shed-1/+/cmd', 'farm/+/+/shed-1-fan/cmd', 'farm/huyang/shed-1/alert'])
      expect(await granted(topic), topic).toBe(128);
    expect(await granted(SHED1_FAN.cmd)).toBe(1);
    await endClient(fan);
  });

  it('disconnects a device publishing on $SYS and stores nothing', async () => {
    const before = svc.ingest.stats().rejected.unauthorised_topic;
    const device = await connectDevice(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret);
    device.publish('$SYS/broker/clients', JSON.stringify({ metrics: { nh3: 1 } }), { qos: 0 });
    await closed(device);
    device.end(true);
    expect(svc.ingest.stats().rejected.unauthorised_topic).toBe(before + 1);
    expect(await svc.store.raw({ device: SHED1_ENV.id, from: 0, to: Date.now() + 1e6 })).toEqual([]);
  });

  /**
   * What a subscriber arriving now gets on `topic` before a marker the service publishes after its SUBACK: the
   * broker sends retained messages with the subscription, so anything retained comes first.
   */
  async function retainedOn(topic: string): Promise<string[]> {
    const watcher = await connectDevice(svc.mqttPort, 'watcher', SERVICE_PASSWORD, { username: 'farm-service' });
    const got: string[] = [];
    const marker = `marker-${Math.random()}`;
    const sawMarker = new Promise<void>((resolve) =>
      watcher.on('message', (_t, payload) => (payload.toString() === marker ? resolve() : void got.push(payload.toString()))),
    );
    await watcher.subscribeAsync(topic, { qos: 1 });
    await watcher.publishAsync(topic, marker, { qos: 1 });
    await sawMarker;
    await endClient(watcher);
    return got;
  }

  it('disconnects a sensor publishing a retained state (only actuators have a state), while the fan keeps its retained state', async () => {
    const before = svc.ingest.stats().rejected.unauthorised_topic;
    const fan = await connectDevice(svc.mqttPort, SHED1_FAN.id, SHED1_FAN.secret);
    await fan.publishAsync(SHED1_FAN.state, JSON.stringify({ state: 'on', value: 60 }), { qos: 1, retain: true });
    await endClient(fan);
    const sensor: MqttClient = await connectDevice(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret);
    sensor.publish('farm/huyang/shed-1/shed-1-env/state', JSON.stringify({ state: 'on' }), { qos: 1, retain: true });
    await closed(sensor);
    sensor.end(true);
    expect(svc.ingest.stats().rejected.unauthorised_topic).toBe(before + 1);
    expect(await retainedOn('farm/huyang/shed-1/shed-1-env/state')).toEqual([]);
    expect((await retainedOn(SHED1_FAN.state)).map((p) => JSON.parse(p))).toMatchObject([{ state: 'on', value: 60 }]);
  });

  it('stores a reading published with retain but does not retain it, and counts that', async () => {
    const ts = Date.now() - 5000;
    const sensor = await connectDevice(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret);
    await sensor.publishAsync(SHED1_ENV.topic, JSON.stringify({ ts, metrics: { nh3: 3 } }), { qos: 1, retain: true });
    await endClient(sensor);
    expect(await svc.store.raw({ device: SHED1_ENV.id, metric: 'nh3', from: ts, to: ts + 1 })).toMatchObject([{ value: 3 }]);
    expect(await retainedOn(SHED1_ENV.topic)).toEqual([]);
    await waitFor(async () => ((await svc.metrics.retainCleared.get()).values[0]?.value ?? 0) === 1 || undefined, 'the cleared retain flag to be counted');
  });
});
