import type { MqttClient } from 'mqtt';
import type { Command } from '../../core/domain.js';
import { connectDevice, endClient } from '../helpers/mqtt.js';

/**
 * Real MQTT devices for the full-stack tests, connected with their own credentials like a field device:
 * `online` status with an `offline` Last Will, telemetry on their own topic, and (actuators) commands on their
 * own cmd topic answered with a state carrying `ack`. An actuator can hold its acknowledgements back, so a test
 * can see what the page shows while a command is on its way.
 */
export interface DeviceAddress {
  site: string;
  zone: string;
  device: string;
  secret: string;
}

const base = (d: DeviceAddress, root = 'farm') => `${root}/${d.site}/${d.zone}/${d.device}`;

async function connectAs(port: number, d: DeviceAddress): Promise<MqttClient> {
  const client = await connectDevice(port, d.device, d.secret, { will: { topic: `${base(d)}/status`, payload: Buffer.from('offline'), qos: 1, retain: true } });
  await client.publishAsync(`${base(d)}/status`, 'online', { qos: 1, retain: true });
  return client;
}

export interface TestSensor {
  send(metrics: Record<string, number>, ts?: number): Promise<void>;
  /** A store-and-forward batch: `{"readings": [...]}` (SPEC), e.g. the last hours a gauge kept while offline. */
  sendBatch(readings: { ts: number; metrics: Record<string, number> }[]): Promise<void>;
  close(): Promise<void>;
}

export async function startSensor(port: number, d: DeviceAddress): Promise<TestSensor> {
  const client = await connectAs(port, d);
  return {
    send: async (metrics, ts = Date.now()) => void (await client.publishAsync(`${base(d)}/telemetry`, JSON.stringify({ ts, metrics }), { qos: 1 })),
    sendBatch: async (readings) => void (await client.publishAsync(`${base(d)}/telemetry`, JSON.stringify({ readings }), { qos: 1 })),
    close: () => endClient(client),
  };
}

export interface TestActuator {
  /** Every command received, oldest first. */
  readonly commands: Command[];
  /** While true, commands are received but not acknowledged; release() acknowledges the held ones. */
  holdAcks: boolean;
  release(): Promise<void>;
  close(): Promise<void>;
}

export async function startActuator(port: number, d: DeviceAddress): Promise<TestActuator> {
  const client = await connectAs(port, d);
  const held: Command[] = [];
  const publishState = (state: 'on' | 'off', value: number, ack?: string) =>
    client.publishAsync(`${base(d)}/state`, JSON.stringify({ state, value, ack, ts: Date.now() }), { qos: 1, retain: true });
  const ack = async (c: Command) => {
    const state = c.action === 'off' ? 'off' : 'on';
    await publishState(state, c.action === 'set' ? (c.value ?? 0) : state === 'on' ? 100 : 0, c.id);
  };
  const handle: TestActuator = {
    commands: [],
    holdAcks: false,
    async release() {
      this.holdAcks = false;
      for (const c of held.splice(0)) await ack(c);
    },
    close: () => endClient(client),
  };
  client.on('message', (_topic, payload) => {
    const command = JSON.parse(payload.toString()) as Command;
    handle.commands.push(command);
    if (handle.holdAcks) held.push(command);
    else void ack(command);
  });
  await client.subscribeAsync(`${base(d)}/cmd`, { qos: 1 });
  await publishState('off', 0);
  return handle;
}
