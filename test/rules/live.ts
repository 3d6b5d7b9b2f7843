import type { MqttClient } from 'mqtt';
import type { FarmConfigT } from '../../core/config/schema.js';
import type { ActuatorHoldEvent, AlertEvent, Command } from '../../core/domain.js';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { startTestService } from '../helpers/service.js';
import { login, type Api } from '../reliability/api.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';

/**
 * The whole service in this process (embedded broker, ingest, SQLite store, rules engine, HTTP API) with the
 * rules engine and ingest on a clock the test moves, and real MQTT devices with their own secrets. The clock
 * starts at the wall clock, so what the dashboard computes with its own time (a hold `forMinutes`, the
 * default range of /api/commands) agrees with the engine's within the minutes a test advances.
 */
export interface LiveFarm {
  svc: Awaited<ReturnType<typeof startTestService>>;
  clock: FakeClock;
  /** Every alert event the engine emitted, in order. */
  alerts: AlertEvent[];
  /** Operator holds started and ended (FarmBus `actuatorHold`). */
  holdEvents: ActuatorHoldEvent[];
  /** Commands the engine sent, as it sent them (FarmBus `command`: synchronous, so absence can be asserted). */
  sent: { device: string; command: Command }[];
  api(user: string, password: string): Promise<Api>;
  sensor(id: string): Promise<LiveSensor>;
  actuator(id: string): Promise<LiveActuator>;
  /** Moves the engine's clock; timers (rule ticks, ack timeouts, hold ends) run on the way. */
  advance(ms: number): void;
  stop(): Promise<void>;
}

export interface LiveSensor {
  /** Publishes a reading stamped with the engine's clock and resolves once the rules engine has evaluated it. */
  send(metrics: Record<string, number>): Promise<void>;
}

export interface LiveActuator {
  /** Every distinct command received (a re-send of the same id is not counted again), oldest first. */
  readonly commands: Command[];
  /** While true, commands are received but not acknowledged. */
  holdAcks: boolean;
  /** Publishes a state report (with `ack` when given) and resolves once the engine has seen it. */
  report(state: 'on' | 'off', ack?: string): Promise<void>;
  /** Waits until `n` distinct commands have arrived and returns the last one. */
  nth(n: number): Promise<Command>;
}

export async function startLiveFarm(config: FarmConfigT, opts: { dataDir?: string; startTs?: number } = {}): Promise<LiveFarm> {
  const clock = createFakeClock(opts.startTs ?? Date.now());
  const svc = await startTestService({ config, clock, dataDir: opts.dataDir });
  const alerts: AlertEvent[] = [];
  const holdEvents: ActuatorHoldEvent[] = [];
  const sent: LiveFarm['sent'] = [];
  const clients: MqttClient[] = [];
  const seenReadings = new Set<string>();
  const statesSeen = new Map<string, number>();
  svc.bus.on('alert', (e) => alerts.push(e));
  svc.bus.on('actuatorHold', (e) => holdEvents.push(e));
  svc.bus.on('command', (c) => sent.push({ device: c.device, command: c.command }));
  svc.bus.on('reading', (r) => seenReadings.add(`${r.device}@${r.ts}`));
  svc.bus.on('actuatorState', (s) => statesSeen.set(s.device, (statesSeen.get(s.device) ?? 0) + 1));
  const address = (id: string) => {
    const site = config.sites.find((s) => s.zones.some((z) => z.devices.some((d) => d.id === id)))!;
    const zone = site.zones.find((z) => z.devices.some((d) => d.id === id))!;
    const device = zone.devices.find((d) => d.id === id)!;
    return { base: `farm/${site.id}/${zone.id}/${id}`, secret: device.secret! };
  };

  return {
    svc,
    clock,
    alerts,
    holdEvents,
    sent,
    api: (user, password) => login(svc.httpPort, user, password),
    async sensor(id) {
      const { base, secret } = address(id);
      const client = await connectDevice(svc.mqttPort, id, secret);
      clients.push(client);
      let lastTs = -Infinity;
      return {
        async send(metrics) {
          // A device stamps each reading with its own instant: one stamped like the previous is a resend of it
          // (SPEC: readings are idempotent, the first value stands), so two sends at one clock reading step 1 ms.
          if (clock.now() <= lastTs) clock.advance(lastTs + 1 - clock.now());
          const ts = clock.now();
          lastTs = ts;
          await client.publishAsync(`${base}/telemetry`, JSON.stringify({ ts, metrics }), { qos: 1 });
          await waitFor(() => seenReadings.has(`${id}@${ts}`), `the rules engine to evaluate ${id}'s reading at ${ts}`);
        },
      };
    },
    async actuator(id) {
      const { base, secret } = address(id);
      const client = await connectDevice(svc.mqttPort, id, secret);
      clients.push(client);
      // Reports of one device arrive in order (QoS 1, one connection): the engine has seen this one when its count grows.
      let reports = 0;
      const report = async (state: 'on' | 'off', ack?: string) => {
        const n = ++reports;
        await client.publishAsync(`${base}/state`, JSON.stringify({ state, value: state === 'on' ? 100 : 0, ack, ts: clock.now() }), { qos: 1, retain: true });
        await waitFor(() => (statesSeen.get(id) ?? 0) >= n, `the rules engine to see ${id}'s state report`);
      };
      const handle: LiveActuator = {
        commands: [],
        holdAcks: false,
        report,
        nth: (n) => waitFor(() => handle.commands[n - 1], `${id} to receive command #${n}`),
      };
      client.on('message', (_topic, payload) => {
        const command = JSON.parse(payload.toString()) as Command;
        if (handle.commands.some((c) => c.id === command.id)) return;
        handle.commands.push(command);
        if (!handle.holdAcks) void report(command.action === 'off' ? 'off' : 'on', command.id).catch(() => {});
      });
      await client.subscribeAsync(`${base}/cmd`, { qos: 1 });
      return handle;
    },
    advance: (ms) => clock.advance(ms),
    async stop() {
      for (const c of clients) await endClient(c);
      await svc.cleanup();
    },
  };
}
