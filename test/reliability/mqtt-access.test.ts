import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closed, connectDevice, endClient, tryConnect } from '../helpers/mqtt.js';
import { SHED1_ENV, SHED1_FAN, startTestService } from '../helpers/service.js';

/**
 * MQTT access control beyond what test/e2e/refusals.test.ts checks: the service's own credentials, $SYS, and
 * wildcard subscriptions that would cover a device's own cmd topic and more.
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
});
