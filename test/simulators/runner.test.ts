import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { createSimulatorRunner, createLoadRunner, defaultStartTs, type SimulatorRunner } from '../../simulators/runner.js';
import { parseDeviceTopic } from '../../core/topics.js';
import { METRICS } from '../../core/metrics-catalog.js';
import { farm, fieldZone, gaugeZone, localTime, SECRET, shedZone } from './fixtures.js';
import { startTestBroker, waitUntil, type TestBroker } from './test-broker.js';

const HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';

function testFarm() {
  const f = farm({ huyang: [shedZone(1)], tianmu: [fieldZone(1)], drain: [gaugeZone('gauge-1')] });
  // A device provisioned with a hash only: the simulator cannot know its secret.
  f.sites[1].zones[0].devices.push({ id: 'field-1-probe', role: 'sensor', secretHash: HASH });
  return f;
}

const devicesWithSecrets = ['shed-1-env', 'shed-1-fan', 'shed-1-spray', 'shed-1-shutter', 'field-1-soil', 'field-1-valve', 'gauge-1-rain'];
let broker: TestBroker | undefined;
let runner: SimulatorRunner | undefined;

afterEach(async () => {
  await runner?.stop();
  await broker?.close();
  runner = undefined;
  broker = undefined;
});

async function setUp(extra: Partial<Parameters<typeof createSimulatorRunner>[0]> = {}) {
  const secrets = new Map(devicesWithSecrets.map((d) => [d, SECRET]));
  secrets.set('svc', 'service-secret');
  broker = await startTestBroker(secrets);
  const f = testFarm();
  runner = createSimulatorRunner({
    farm: f,
    brokerUrl: broker.url,
    secrets: (id) => f.sites.flatMap((s) => s.zones.flatMap((z) => z.devices)).find((d) => d.id === id)?.secret,
    scenario: 'normal-day',
    seed: 1,
    speed: 600,
    reportEverySec: 60,
    startTs: localTime(10),
    tickMs: 50,
    ...extra,
  });
  return { broker, runner };
}

describe('simulator runner against a real broker', () => {
  it('connects every device with its own credentials, announces it online and skips devices without a plain secret', async () => {
    const { broker, runner } = await setUp();
    await runner.start();
    await waitUntil(() => devicesWithSecrets.every((d) => broker.connected.has(d)), 'all devices connected');
    expect(broker.connected.has('field-1-probe')).toBe(false);
    expect(runner.stats()).toMatchObject({ devices: 8, skipped: 1, connected: 7 });
    for (const d of devicesWithSecrets) {
      const status = await waitUntil(() => broker.published.find((p) => p.client === d && p.topic.endsWith(`/${d}/status`)), `${d} online`);
      expect(status).toMatchObject({ payload: 'online', qos: 1, retain: true });
    }
  });

  it('sensors publish SPEC telemetry on their own topic with simulated timestamps', async () => {
    const { broker, runner } = await setUp();
    await runner.start();
    const readings = await waitUntil(() => {
      const r = broker.published.filter((p) => p.topic.endsWith('/telemetry'));
      return ['shed-1-env', 'field-1-soil', 'gauge-1-rain'].every((d) => r.filter((p) => p.client === d).length >= 3) && r;
    }, 'three readings from each sensor');
    for (const p of readings) {
      const t = parseDeviceTopic('farm', p.topic)!;
      expect(t.device).toBe(p.client);
      const body = JSON.parse(p.payload) as { ts: number; metrics: Record<string, number> };
      expect(body.ts).toBeGreaterThanOrEqual(localTime(10));
      expect(body.ts).toBeLessThan(localTime(10) + 24 * 3600_000);
      for (const [name, value] of Object.entries(body.metrics)) {
        expect(value).toBeGreaterThanOrEqual(METRICS[name].min);
        expect(value).toBeLessThanOrEqual(METRICS[name].max);
      }
    }
    expect(readings.find((p) => p.client === 'shed-1-env')!.topic).toBe('farm/huyang/shed-1/shed-1-env/telemetry');
    const ts = readings.filter((p) => p.client === 'shed-1-env').map((p) => JSON.parse(p.payload).ts as number);
    expect(ts[1] - ts[0]).toBe(60_000); // one simulated minute apart, though published 0.1 s apart
  });

  it('actuators publish their state, then acknowledge a command with their new state (QoS 1, retained)', async () => {
    const { broker, runner } = await setUp();
    await runner.start();
    await waitUntil(() => broker.published.find((p) => p.topic === 'farm/huyang/shed-1/shed-1-fan/state'), 'initial fan state');
    const service = mqtt.connect(broker.url, { clientId: 'svc', username: 'svc', password: 'service-secret', reconnectPeriod: 0 });
    await new Promise((resolve) => service.once('connect', resolve));
    service.publish('farm/huyang/shed-1/shed-1-fan/cmd', JSON.stringify({ id: 'cmd-42', action: 'set', value: 70, reason: 'manual:ops', ts: Date.now() }), {
      qos: 1,
    });
    const ack = await waitUntil(
      () => broker.published.find((p) => p.topic === 'farm/huyang/shed-1/shed-1-fan/state' && p.payload.includes('cmd-42')),
      'fan ack',
    );
    expect(ack).toMatchObject({ qos: 1, retain: true, client: 'shed-1-fan' });
    expect(JSON.parse(ack.payload)).toMatchObject({ state: 'on', value: 70, ack: 'cmd-42', ts: expect.any(Number) });
    expect(runner.simulation.actuator('shed-1-fan')).toMatchObject({ state: 'on', value: 70 });
    expect(runner.stats()).toMatchObject({ commands: 1, acked: 1 });
    service.end(true);
  });

  it('a wrong secret is refused at CONNECT and counted as an error, without stopping the others', async () => {
    const { broker } = await setUp({ secrets: (id) => (id === 'gauge-1-rain' ? 'wrong-secret-1' : SECRET) });
    const startedAt = Date.now();
    await runner!.start();
    expect(Date.now() - startedAt).toBeLessThan(3000); // start() does not wait for a refused device
    await waitUntil(() => runner!.stats().errors > 0, 'refusal counted');
    expect(broker.connected.has('gauge-1-rain')).toBe(false);
    expect(broker.connected.has('shed-1-env')).toBe(true);
    expect(runner!.stats().lastError).toMatch(/gauge-1-rain/);
  });

  it('a store-and-forward device drops off (the broker publishes its will), comes back and sends one batch', async () => {
    const { broker, runner } = await setUp({ faults: [{ kind: 'reconnect-batch', device: 'gauge-1-rain', fromSec: 120, toSec: 600 }] });
    await runner.start();
    const statusTopic = 'farm/drain/gauge-1/gauge-1-rain/status';
    await waitUntil(() => broker.published.some((p) => p.topic === statusTopic && p.payload === 'offline'), 'will published by the broker');
    // The device sent no goodbye: the offline message is its Last Will, published by the broker.
    expect(runner.stats().errors).toBe(0);
    const batch = await waitUntil(() => broker.published.find((p) => p.client === 'gauge-1-rain' && p.payload.includes('"readings"')), 'batch');
    expect((JSON.parse(batch.payload).readings as unknown[]).length).toBeGreaterThan(5);
    expect(broker.published.filter((p) => p.topic === statusTopic).map((p) => p.payload)).toEqual(['online', 'offline', 'online']);
  });

  it('stops by itself after the duration and leaves every device offline', async () => {
    const { broker, runner } = await setUp({ durationSec: 1800, speed: 3600 });
    await runner.start();
    const final = await runner.done;
    expect(final).toMatchObject({ finished: true, simElapsedSec: 1800, errors: 0 });
    expect(final.telemetry).toBeGreaterThanOrEqual(3 * 29);
    for (const d of devicesWithSecrets) {
      const last = broker.published.filter((p) => p.topic.endsWith(`/${d}/status`)).at(-1);
      expect(last?.payload).toBe('offline');
    }
  });
});

describe('load runner', () => {
  it('connects N authenticated devices, publishes at the asked rate and stops by itself', async () => {
    const secrets = new Map(Array.from({ length: 50 }, (_, i) => [`load-${i}`, 'load-secret-1']));
    broker = await startTestBroker(secrets);
    const load = createLoadRunner({
      brokerUrl: broker.url,
      devices: 50,
      ratePerSec: 400,
      durationSec: 1,
      credentials: (i) => ({ device: `load-${i}`, site: 'load', zone: `z-${Math.floor(i / 10)}`, kind: 'shed', password: 'load-secret-1' }),
    });
    await load.start();
    const final = await load.done;
    expect(final).toMatchObject({ devices: 50, connectFailures: 0, errors: 0, finished: true });
    expect(final.sent).toBeGreaterThan(300);
    expect(final.sent).toBeLessThan(500);
    const telemetry = broker.published.filter((p) => p.topic.endsWith('/telemetry'));
    expect(new Set(telemetry.map((p) => p.client)).size).toBe(50);
    expect(telemetry.every((p) => parseDeviceTopic('farm', p.topic)?.device === p.client)).toBe(true);
    expect(JSON.parse(telemetry[0].payload)).toMatchObject({ ts: expect.any(Number), metrics: { temperature: expect.any(Number) } });
  });

  it('refuses more than 10,000 devices', () => {
    expect(() =>
      createLoadRunner({ brokerUrl: 'mqtt://x', devices: 10_001, ratePerSec: 1, credentials: () => ({ device: 'd', site: 's', zone: 'z', password: 'p' }) }),
    ).toThrow(/1 to 10000/);
  });
});

describe('default start time', () => {
  it('is now at real time; faster runs end at now so no reading is stamped in the future', () => {
    const now = 1_800_000_000_000;
    expect(defaultStartTs(now, 1, 3600)).toBe(now);
    expect(defaultStartTs(now, 60, undefined)).toBe(now);
    const start = defaultStartTs(now, 60, 6 * 3600);
    const wallSec = (6 * 3600) / 60;
    expect(start + 6 * 3600_000).toBe(now + wallSec * 1000);
  });
});
