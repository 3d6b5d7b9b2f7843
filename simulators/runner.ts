import type { Logger } from 'pino';
import type { FarmConfigT } from '../core/config/schema.js';
import { deviceTopic } from '../core/topics.js';
import { createFarmSimulation, type FarmSimulation, type SimOutput } from './farm-sim.js';
import type { Scenario } from './scenarios.js';
import { STORE_AND_FORWARD_LIMIT, type FaultSpec } from './models/faults.js';
import { createDeviceClient, type DeviceClient } from './device-client.js';

export { createLoadRunner, type LoadRunner, type LoadRunnerOptions, type LoadStats } from './load-runner.js';

/**
 * Runs the simulated farm against a broker: one MQTT client per device, authenticated with its own
 * credentials, publishing what the simulation produces at `speed` × real time and answering commands.
 */
export interface SimulatorRunnerOptions {
  farm: FarmConfigT;
  brokerUrl: string;
  /** The plain secret of a device, or undefined when only a hash is known (the device is skipped). */
  secrets: (deviceId: string) => string | undefined;
  scenario: string | Scenario;
  seed?: number;
  /** Simulated seconds per real second (60 = one simulated hour per minute). */
  speed?: number;
  topicRoot?: string;
  /** Simulated seconds to play; undefined = until stop(). */
  durationSec?: number;
  startTs?: number;
  reportEverySec?: number;
  faults?: FaultSpec[];
  /** QoS of telemetry (SPEC allows 0 or 1); states and status are always QoS 1. */
  telemetryQos?: 0 | 1;
  tickMs?: number;
  /** How long start() waits for the first connections, ms. */
  connectWaitMs?: number;
  logger?: Logger;
  onProgress?: (stats: RunnerStats) => void;
  progressEveryMs?: number;
}

export interface RunnerStats {
  devices: number;
  skipped: number;
  connected: number;
  sent: number;
  telemetry: number;
  states: number;
  commands: number;
  acked: number;
  errors: number;
  /** Messages per second over the last progress interval. */
  ratePerSec: number;
  simTs: number;
  simElapsedSec: number;
  wallElapsedMs: number;
  finished: boolean;
  lastError?: string;
}

export interface SimulatorRunner {
  readonly simulation: FarmSimulation;
  start(): Promise<void>;
  stop(): Promise<RunnerStats>;
  stats(): RunnerStats;
  /** Resolves when the duration has been played (or stop() was called). */
  readonly done: Promise<RunnerStats>;
}

/**
 * Where simulated time starts when the caller does not say. At speed 1 it is now. Faster, the run is placed
 * so that its last reading is stamped now: ingest rejects readings more than MAX_FUTURE_SKEW ahead of its
 * clock, while past timestamps up to MAX_PAST_AGE are accepted.
 */
export function defaultStartTs(nowMs: number, speed: number, durationSec?: number): number {
  if (speed <= 1 || durationSec === undefined) return nowMs;
  return Math.round(nowMs - durationSec * 1000 * (1 - 1 / speed));
}

export function createSimulatorRunner(o: SimulatorRunnerOptions): SimulatorRunner {
  const speed = o.speed ?? 1;
  const root = o.topicRoot ?? 'farm';
  const tickMs = o.tickMs ?? 250;
  const log = o.logger;
  const startTs = o.startTs ?? defaultStartTs(Date.now(), speed, o.durationSec);
  const simulation = createFarmSimulation({ farm: o.farm, scenario: o.scenario, seed: o.seed, speed, startTs, reportEverySec: o.reportEverySec, faults: o.faults });
  const devices = simulation.devices();
  const clients = new Map<string, DeviceClient>();
  const where = new Map(devices.map((d) => [d.device, d]));
  const pending = new Map<string, { channel: 'telemetry' | 'state'; payload: Record<string, unknown> | string }[]>();
  const s: RunnerStats = { devices: devices.length, skipped: 0, connected: 0, sent: 0, telemetry: 0, states: 0, commands: 0, acked: 0, errors: 0, ratePerSec: 0, simTs: simulation.now(), simElapsedSec: 0, wallElapsedMs: 0, finished: false };
  let wallStart = 0;
  let tick: NodeJS.Timeout | undefined;
  let progress: NodeJS.Timeout | undefined;
  let lastSent = 0;
  let lastProgressAt = 0;
  let stopping: Promise<RunnerStats> | undefined;
  let resolveDone!: (stats: RunnerStats) => void;
  const done = new Promise<RunnerStats>((resolve) => (resolveDone = resolve));
  const topic = (device: string, channel: 'telemetry' | 'status' | 'cmd' | 'state') => deviceTopic(root, where.get(device)!, channel);

  for (const w of simulation.warnings) log?.warn(w);
  if (speed > 1 && o.durationSec === undefined && o.startTs === undefined) {
    log?.warn({ speed }, 'simulated time runs ahead of the clock with no duration: the service rejects readings stamped more than MAX_FUTURE_SKEW ahead');
  }
  for (const f of simulation.faults) log?.info({ device: f.device, fault: f.kind, fromSec: f.fromSec, toSec: f.toSec }, 'fault planned');

  function fail(err: unknown, device?: string): void {
    s.errors++;
    s.lastError = `${device ? `${device}: ` : ''}${(err as Error).message ?? String(err)}`;
  }

  function publish(device: string, channel: 'telemetry' | 'state', payload: Record<string, unknown> | string): void {
    const client = clients.get(device);
    if (!client) return;
    if (!client.connected()) {
      // Held until CONNACK so that a device's `online` status always precedes what it sends.
      pending.set(device, [...(pending.get(device) ?? []), { channel, payload }].slice(-STORE_AND_FORWARD_LIMIT));
      return;
    }
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const opts = channel === 'state' ? { qos: 1 as const, retain: true } : { qos: o.telemetryQos ?? 1 };
    client.publish(topic(device, channel), body, opts).then(
      () => {
        s.sent++;
        if (channel === 'telemetry') s.telemetry++;
        else s.states++;
      },
      (err) => fail(err, device),
    );
  }

  function connectDevice(device: string, password: string): DeviceClient {
    const info = where.get(device)!;
    return createDeviceClient({
      brokerUrl: o.brokerUrl,
      device,
      password,
      statusTopic: topic(device, 'status'),
      cmdTopic: info.role === 'actuator' ? topic(device, 'cmd') : undefined,
      onConnect: () => {
        const state = simulation.actuator(device);
        if (state) publish(device, 'state', { state: state.state, value: state.value, ts: simulation.now() });
        const held = pending.get(device) ?? [];
        pending.delete(device);
        for (const m of held) publish(device, m.channel, m.payload);
      },
      onCommand: (payload) => {
        s.commands++;
        const ack = simulation.command(device, payload);
        if (ack) {
          s.acked++;
          publish(device, 'state', ack.payload);
        }
      },
      onError: (err, fatal) => {
        fail(err, device);
        if (fatal) log?.error({ device }, `broker refused ${device} (${err.message}): check its secret in the config or secrets file`);
      },
    });
  }

  function dispatch(out: SimOutput[]): void {
    for (const m of out) {
      const password = o.secrets(m.device);
      if (m.channel === 'connection') {
        const client = clients.get(m.device);
        if (!m.online && client) {
          client.drop();
          clients.delete(m.device);
        } else if (m.online && !client && password) {
          clients.set(m.device, connectDevice(m.device, password));
        }
        continue;
      }
      publish(m.device, m.channel, m.payload);
    }
  }

  function onTick(): void {
    let target = ((Date.now() - wallStart) / 1000) * speed;
    if (o.durationSec !== undefined) target = Math.min(target, o.durationSec);
    try {
      dispatch(simulation.advance(target - simulation.elapsedSec()));
    } catch (err) {
      fail(err);
      log?.error({ err }, 'simulation step failed');
    }
    if (o.durationSec !== undefined && simulation.elapsedSec() >= o.durationSec - 1e-9 && !s.finished) {
      s.finished = true;
      void stop();
    }
  }

  function snapshot(): RunnerStats {
    s.connected = [...clients.values()].filter((c) => c.connected()).length;
    s.simTs = simulation.now();
    s.simElapsedSec = simulation.elapsedSec();
    s.wallElapsedMs = wallStart ? Date.now() - wallStart : 0;
    return { ...s };
  }

  function reportProgress(): void {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - lastProgressAt) / 1000);
    s.ratePerSec = (s.sent - lastSent) / seconds;
    lastSent = s.sent;
    lastProgressAt = now;
    o.onProgress?.(snapshot());
  }

  async function start(): Promise<void> {
    for (const d of devices) {
      const password = o.secrets(d.device);
      if (password === undefined) {
        s.skipped++;
        log?.warn({ device: d.device }, `skipping ${d.device}: no plain secret known (the config has only secretHash); give it in a secrets file`);
        continue;
      }
      clients.set(d.device, connectDevice(d.device, password));
    }
    const waitUntil = Date.now() + (o.connectWaitMs ?? 5000);
    while (Date.now() < waitUntil && [...clients.values()].some((c) => !c.connected() && !c.refused())) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const connected = [...clients.values()].filter((c) => c.connected()).length;
    log?.info({ connected, devices: clients.size, skipped: s.skipped, scenario: simulation.scenario.name, speed }, 'simulated farm running');
    wallStart = Date.now();
    lastProgressAt = wallStart;
    tick = setInterval(onTick, tickMs);
    progress = setInterval(reportProgress, o.progressEveryMs ?? 1000);
  }

  function stop(): Promise<RunnerStats> {
    stopping ??= (async () => {
      clearInterval(tick);
      clearInterval(progress);
      await Promise.all([...clients.values()].map((c) => c.close()));
      reportProgress();
      const final = snapshot();
      final.connected = 0;
      clients.clear();
      resolveDone(final);
      return final;
    })();
    return stopping;
  }

  return { simulation, start, stop, stats: snapshot, done };
}
