import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import type { AlertEvent, Command } from '../../core/domain.js';
import type { RuleT } from '../../rules/schema.js';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { DEMO_CONFIG, startTestService } from '../helpers/service.js';

/**
 * Issue 3's integration check, over real MQTT against the whole service in this process (embedded broker,
 * ingest, SQLite store, rules engine): real mqtt.js clients play the shed-1 climate sensor, fan and spray
 * with their development secrets from config/demo-farm.yaml.
 * The demo farm's own shed-ammonia rule is used (above 20 ppm, clearBelow 15, spray + fan, warning alert),
 * with its `for` and `minOn` shortened from 30 s / 2 min to 1 s / 2 s so that the test takes seconds.
 */
const SENSOR = { id: 'shed-1-env', secret: 'dev-only-shed-1-env', topic: 'farm/huyang/shed-1/shed-1-env/telemetry' };
const ACTUATORS = [
  { id: 'shed-1-fan', secret: 'dev-only-shed-1-fan', cmd: 'farm/huyang/shed-1/shed-1-fan/cmd', state: 'farm/huyang/shed-1/shed-1-fan/state' },
  { id: 'shed-1-spray', secret: 'dev-only-shed-1-spray', cmd: 'farm/huyang/shed-1/shed-1-spray/cmd', state: 'farm/huyang/shed-1/shed-1-spray/state' },
];

/**
 * A fan or spray that does what it is told and acknowledges it, as SPEC "State" says. A command it already has
 * (a re-send after a slow ack, same id) is acknowledged again but not counted twice.
 */
interface PlayedActuator {
  client: MqttClient;
  received: { command: Command; at: number; qos: number }[];
}

async function playActuator(port: number, a: (typeof ACTUATORS)[number]): Promise<PlayedActuator> {
  const client = await connectDevice(port, a.id, a.secret);
  const played: PlayedActuator = { client, received: [] };
  client.on('message', (_topic, payload, packet) => {
    const command = JSON.parse(payload.toString()) as Command;
    if (!played.received.some((r) => r.command.id === command.id)) played.received.push({ command, at: Date.now(), qos: packet.qos });
    const state = {
      state: command.action === 'off' ? 'off' : 'on',
      value: command.action === 'off' ? 0 : (command.value ?? 100),
      ack: command.id,
      ts: Date.now(),
    };
    void client.publishAsync(a.state, JSON.stringify(state), { qos: 1, retain: true });
  });
  await client.subscribeAsync(a.cmd, { qos: 1 });
  return played;
}

describe('rules over real MQTT: ammonia in shed 1', () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let sensor: MqttClient;
  let fan: PlayedActuator;
  let spray: PlayedActuator;
  const liveAlerts: AlertEvent[] = [];
  let ammoniaRule: RuleT;

  beforeAll(async () => {
    const config = loadFarmConfig(DEMO_CONFIG);
    // Sustain and minimum on-times shortened for a test in real time: `for` 1 s, minOn 2 s.
    config.rules = config.rules.map((r) =>
      r.id === 'shed-ammonia'
        ? { ...r, when: { ...r.when, for: 1000 }, minOn: 2000 }
        : r.id === 'shed-deodorise' && 'all' in r.when
          ? { ...r, when: { all: r.when.all.map((c) => ('metric' in c && c.metric === 'nh3' ? { ...c, for: 1000 } : c)) }, minOn: 2000 }
          : r,
    );
    ammoniaRule = config.rules.find((r) => r.id === 'shed-ammonia')!;
    svc = await startTestService({ config });
    svc.bus.on('alert', (e) => liveAlerts.push(e));
    sensor = await connectDevice(svc.mqttPort, SENSOR.id, SENSOR.secret);
    [fan, spray] = await Promise.all(ACTUATORS.map((a) => playActuator(svc.mqttPort, a)));
  });

  afterAll(async () => {
    for (const c of [sensor, fan?.client, spray?.client]) if (c) await endClient(c);
    await svc?.cleanup();
  });

  it('switches spray and fan on past the threshold, raises the alert, and undoes both below clearBelow; all of it in the store', async () => {
    // The rule under test is the demo farm's, thresholds unchanged.
    expect(ammoniaRule.when).toMatchObject({ metric: 'nh3', atLeast: 20, clearBelow: 15 });
    const start = Date.now();
    const published: { ts: number; nh3: number }[] = [];
    const publish = async (nh3: number) => {
      const ts = Date.now();
      published.push({ ts, nh3 });
      // A mild, dry shed (18 °C, 60 %RH): the deodorising spray is allowed, and no heat rule has a say.
      await sensor.publishAsync(SENSOR.topic, JSON.stringify({ ts, metrics: { nh3, temperature: 18, humidity: 60 } }), { qos: 1 });
    };
    const onCommands = () => [fan, spray].every((a) => a.received.some((r) => r.command.action === 'on'));

    // Below the threshold: nothing happens.
    await publish(12);
    await publish(19.5);
    // Rising past it: it must hold for the (shortened) `for` of 1 s before anything is commanded.
    const rose = Date.now();
    await waitFor(
      async () => {
        if (!onCommands()) await publish(24);
        return onCommands() || undefined;
      },
      'on commands at the fan and the spray',
      15_000,
      250,
    );
    for (const [a, rule] of [
      [fan, 'shed-ammonia'],
      [spray, 'shed-deodorise'],
    ] as const) {
      expect(a.received).toHaveLength(1);
      expect(a.received[0].command).toMatchObject({ action: 'on', reason: `rule:${rule}` });
      expect(a.received[0].qos).toBe(1);
      expect(a.received[0].at - rose).toBeGreaterThanOrEqual(1000); // not before `for` had passed
    }
    const raised = await waitFor(() => liveAlerts.find((e) => e.rule === 'shed-ammonia' && e.state === 'raised'), 'the ammonia alert');
    expect(raised).toMatchObject({ site: 'huyang', zone: 'shed-1', device: 'shed-1-env', severity: 'warning', message: 'Ammonia 24 ppm (17 mg/m³) in shed-1' });

    // Hovering between clearBelow (15) and the threshold (20): hysteresis, no command, no clear.
    await publish(18);
    await publish(16);
    await new Promise((r) => setTimeout(r, 300));
    expect(fan.received).toHaveLength(1);
    expect(liveAlerts.filter((e) => e.rule === 'shed-ammonia').map((e) => e.state)).toEqual(['raised']);

    // Below clearBelow: off (after the shortened minOn of 2 s), alert cleared.
    const fell = Date.now();
    await publish(11);
    await waitFor(() => [fan, spray].every((a) => a.received.some((r) => r.command.action === 'off')) || undefined, 'off commands at the fan and the spray');
    for (const [a, rule] of [
      [fan, 'shed-ammonia'],
      [spray, 'shed-deodorise'],
    ] as const) {
      expect(a.received.map((r) => `${r.command.action}:${r.command.reason}`)).toEqual([`on:rule:${rule}`, `off:rule:${rule}`]);
      expect(a.received[1].at).toBeGreaterThanOrEqual(fell);
    }
    const cleared = await waitFor(() => liveAlerts.find((e) => e.rule === 'shed-ammonia' && e.state === 'cleared'), 'the alert cleared');
    expect(cleared).toMatchObject({ id: raised.id, value: 11 });

    // The whole sequence, read back from the store.
    const range = { from: start - 1, to: Date.now() + 1 };
    await waitFor(
      async () => (await svc.store.raw({ ...range, device: SENSOR.id, metric: 'nh3' })).length === published.length || undefined,
      'every reading stored',
    );
    const stored = await svc.store.raw({ ...range, device: SENSOR.id, metric: 'nh3' });
    expect(stored.map((p) => [p.ts, p.value])).toEqual(published.map((p) => [p.ts, p.nh3]));

    // A re-send after a slow ack (a loaded machine) is recorded as `retried`; the sequence is the same without it.
    // Each look asks up to now: an acknowledgement that comes after `range` was taken (a loaded machine) is still found.
    const records = async (device: string) =>
      (await svc.store.commands({ from: start - 1, to: Date.now() + 1, device })).reverse().filter((r) => r.outcome !== 'retried');
    const outcomes = async (device: string) => (await records(device)).map((r) => `${r.command.action}:${r.outcome}`);
    for (const a of [fan, spray]) {
      // Wait for the last record expected, then compare the whole sequence, so a failure shows what was recorded.
      await waitFor(
        async () => (await outcomes(a.client.options.clientId!)).includes('off:acked') || undefined,
        `the off command of ${a.client.options.clientId} recorded as acked`,
      );
      expect(await outcomes(a.client.options.clientId!)).toEqual(['on:sent', 'on:acked', 'off:sent', 'off:acked']);
      const stored = await records(a.client.options.clientId!);
      expect(stored.map((r) => r.command.id)).toEqual([a.received[0].command.id, a.received[0].command.id, a.received[1].command.id, a.received[1].command.id]);
      expect(stored[2].ts - stored[0].ts).toBeGreaterThanOrEqual(2000); // off waited out minOn
    }

    await waitFor(
      async () => (await svc.store.alerts({ ...range, site: 'huyang' })).some((e) => e.state === 'cleared') || undefined,
      'the cleared alert stored',
    );
    const alerts = (await svc.store.alerts({ ...range, site: 'huyang' })).filter((e) => e.rule === 'shed-ammonia').reverse();
    expect(alerts.map((e) => [e.id, e.state])).toEqual([
      [raised.id, 'raised'],
      [raised.id, 'cleared'],
    ]);

    // In time order: the first reading past 20, then the commands, then the raise; the reading under 15, then the clear and the offs.
    const firstHigh = published.find((p) => p.nh3 > 20)!.ts;
    const onSent = Math.min(...(await svc.store.commands({ ...range, site: 'huyang' })).filter((r) => r.command.action === 'on').map((r) => r.ts));
    expect(onSent).toBeGreaterThanOrEqual(firstHigh + 1000);
    expect(alerts[0].ts).toBeGreaterThanOrEqual(onSent);
    expect(alerts[1].ts).toBeGreaterThanOrEqual(published.find((p) => p.nh3 === 11)!.ts);
  });
});
