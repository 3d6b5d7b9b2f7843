import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closed, connectDevice, endClient, tryConnect } from '../helpers/mqtt.js';
import { PIPE1, SHED1_ENV, SHED1_FAN, SHED2_ENV, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/ports.js';

/** Every refusal of SPEC "Access control" and every bad-input reason, over real MQTT, each with its counter. */
let svc: Awaited<ReturnType<typeof startTestService>>;
beforeAll(async () => {
  svc = await startTestService({ env: { MAX_PAYLOAD_BYTES: '4096' } });
});
afterAll(() => svc?.cleanup());

const authFailures = async (reason: string) => (await svc.metrics.authFailures.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
const rejected = (reason: keyof ReturnType<typeof svc.ingest.stats>['rejected']) => svc.ingest.stats().rejected[reason];

describe('the broker refuses at CONNECT', () => {
  it('an unknown device', async () => {
    expect(await tryConnect(svc.mqttPort, 'intruder', 'whatever')).toMatchObject({ connected: false, code: 4 });
    expect(await authFailures('unknown_device')).toBe(1);
  });
  it('a known device with a wrong secret', async () => {
    expect(await tryConnect(svc.mqttPort, SHED1_ENV.id, 'not-the-secret')).toMatchObject({ connected: false, code: 4 });
    expect(await authFailures('bad_secret')).toBe(1);
  });
  it('a client with no credentials', async () => {
    expect(await tryConnect(svc.mqttPort, undefined, undefined)).toMatchObject({ connected: false });
    expect(await authFailures('no_credentials')).toBe(1);
  });
  it("a device borrowing another device's client id (session takeover)", async () => {
    expect(await tryConnect(svc.mqttPort, SHED2_ENV.id, SHED2_ENV.secret, SHED1_ENV.id)).toMatchObject({ connected: false, code: 2 });
  });
  it('but lets the right device in', async () => {
    expect(await tryConnect(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret, SHED1_ENV.id)).toEqual({ connected: true });
  });
});

describe('a connected device is confined to its own topics', () => {
  it.each([
    ['telemetry of another device', SHED2_ENV.topic],
    ['its own cmd topic', 'farm/huyang/shed-1/shed-1-env/cmd'],
    ["an actuator's cmd topic", SHED1_FAN.cmd],
    ['an alert topic', 'farm/huyang/shed-1/alert'],
    ['its own id under another zone', 'farm/huyang/shed-2/shed-1-env/telemetry'],
  ])('publishing on %s closes the connection, is counted, and stores nothing', async (_what, topic) => {
    const before = rejected('unauthorised_topic');
    const device = await connectDevice(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret);
    device.publish(topic, JSON.stringify({ metrics: { nh3: 1 } }), { qos: 0 });
    await closed(device);
    device.end(true);
    expect(rejected('unauthorised_topic')).toBe(before + 1);
    expect(svc.ingest.rejects()[0]).toMatchObject({ reason: 'unauthorised_topic', topic, device: SHED1_ENV.id });
    expect(await svc.store.raw({ device: 'shed-2-env', from: 0, to: Date.now() + 1e6 })).toEqual([]);
  });

  it('may subscribe only to its own cmd topic: #, farm/# and others are refused in the SUBACK', async () => {
    const fan = await connectDevice(svc.mqttPort, SHED1_FAN.id, SHED1_FAN.secret);
    // mqtt.js 5 turns a SUBACK return code of 0x80 into an error that carries the SUBACK packet.
    const granted = (topic: string) =>
      fan.subscribeAsync(topic, { qos: 1 }).then(
        (grants) => grants[0].qos,
        (err: Error & { packet?: { granted: number[] } }) => err.packet?.granted[0],
      );
    expect(await granted('#')).toBe(128);
    expect(await granted('farm/#')).toBe(128);
    expect(await granted('farm/+/+/+/telemetry')).toBe(128);
    expect(await granted('farm/huyang/shed-2/shed-2-fan/cmd')).toBe(128);
    expect(await granted(SHED1_FAN.cmd)).toBe(1);
    expect(fan.connected).toBe(true);
    await endClient(fan);
  });
});

describe('bad input is rejected per reading, counted by reason, and kept for inspection', () => {
  it.each([
    ['malformed_json', '{"metrics": {"nh3": 1'],
    ['schema', JSON.stringify({ metrics: { nh3: 'high' } })],
    ['out_of_range', JSON.stringify({ metrics: { nh3: 9000 } })],
    ['unknown_metric', JSON.stringify({ metrics: { plutonium: 1 } })],
    ['oversize', JSON.stringify({ metrics: { nh3: 1 }, pad: 'x'.repeat(5000) })],
    ['future_timestamp', JSON.stringify({ ts: Date.now() + 86_400_000, metrics: { nh3: 1 } })],
  ] as const)('%s', async (reason, payload) => {
    const before = rejected(reason);
    const device = await connectDevice(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret);
    await device.publishAsync(SHED1_ENV.topic, payload, { qos: 1 });
    expect(rejected(reason)).toBe(before + 1);
    expect(svc.ingest.rejects()[0]).toMatchObject({ reason, device: SHED1_ENV.id, topic: SHED1_ENV.topic });
    expect((await svc.metrics.rejected.get()).values.find((v) => v.labels.reason === reason)?.value).toBe(before + 1);
    // the connection survives bad payloads and the next good reading is stored
    expect(device.connected).toBe(true);
    const ts = Date.now() - Math.floor(Math.random() * 1e6);
    await device.publishAsync(SHED1_ENV.topic, JSON.stringify({ ts, metrics: { nh3: 7.5 } }), { qos: 1 });
    expect(await svc.store.raw({ device: SHED1_ENV.id, metric: 'nh3', from: ts, to: ts + 1 })).toMatchObject([{ value: 7.5, ts }]);
    await endClient(device);
  });

  it('stores none of a batch mixing good and bad readings except the good ones', async () => {
    const device = await connectDevice(svc.mqttPort, PIPE1.id, PIPE1.secret);
    const t = Date.now() - 10_000;
    await device.publishAsync(
      PIPE1.topic,
      JSON.stringify({
        readings: [
          { ts: t, metrics: { fill: 40 } },
          { ts: t + 1, metrics: { fill: 140 } },
          { ts: t + 2, metrics: { nh3: 3 } },
          { ts: t + 3, metrics: { fill: 42 } },
        ],
      }),
      { qos: 1 },
    );
    const stored = await svc.store.raw({ device: PIPE1.id, from: t, to: t + 10 });
    expect(stored.map((p) => [p.ts, p.metric, p.value])).toEqual([
      [t, 'fill', 40],
      [t + 3, 'fill', 42],
    ]);
    await endClient(device);
  });

  it('keeps only the last 100 rejects while counting all of them', async () => {
    const before = rejected('malformed_json');
    const device = await connectDevice(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret);
    for (let i = 0; i < 150; i++) await device.publishAsync(SHED1_ENV.topic, `not json ${i}`, { qos: 1 });
    expect(rejected('malformed_json')).toBe(before + 150);
    expect(svc.ingest.rejects()).toHaveLength(100);
    expect(svc.ingest.rejects()[0].sample).toBe('not json 149');
    await endClient(device);
  });
});

describe('device status', () => {
  it('tracks online and the offline Last Will of a device that drops off', async () => {
    const device = await connectDevice(svc.mqttPort, SHED2_ENV.id, SHED2_ENV.secret, {
      will: { topic: 'farm/huyang/shed-2/shed-2-env/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await device.publishAsync('farm/huyang/shed-2/shed-2-env/status', 'online', { qos: 1, retain: true });
    const presence = () => svc.ingest.presence().find((p) => p.device === SHED2_ENV.id);
    expect(presence()).toMatchObject({ status: 'online' });
    device.stream.destroy(); // no DISCONNECT: the broker publishes the will
    await waitFor(() => presence()?.status === 'offline' || undefined, 'offline status');
    device.end(true);
  });
});
