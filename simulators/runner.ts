import type { Logger } from 'pino';
import type { FarmConfigT } from '../core/config/schema.js';
import { createFarmSimulation, type FarmSimulation, type SimOutput } from './farm-sim.js';
import type { Scenario } from './scenarios.js';
import type { FaultSpec } from './models/faults.js';
import { createDeviceFleet } from './device-fleet.js';
import { createTakeoverWatch, TAKEOVER_HELP } from './takeover.js';
import type { SimClock } from './sim-clock.js';
import { createLockstep, type CommandSource, type Lockstep } from './lockstep.js';

export { createLoadRunner, type LoadRunner, type LoadRunnerOptions, type LoadStats } from './load-runner.js';

/**
 * Runs the simulated farm against a broker: one MQTT client per device, authenticated with its own
 * credentials, publishing what the simulation produces at `speed` × real time and answering commands.
 *
 * Two ways to keep time:
 * - wall (default): simulated time = start + speed × real time. A service in another process judges
 *   `for`, windows and staleness on its own clock, see defaultStartTs.
 * - lockstep (`clock` given): the service runs in this process on the same SimClock. The runner moves
 *   the clock a step at a time, and starts the next step only when the broker acknowledged every message
 *   of the last one (and the commands they caused were answered). `speed` is then an upper bound.
 */
export interface SimulatorRunnerOptions {
  farm: FarmConfigT;
  brokerUrl: string;
  /** For an mqtts:// brokerUrl: whether to check the broker's certificate (default true). */
  brokerTls?: { rejectUnauthorized: boolean };
  /** The plain secret of a device, or undefined when only a hash is known (the device is skipped). */
  secrets: (deviceId: string) => string | undefined;
  scenario: string | Scenario;
  seed?: number;
  /** Simulated seconds per real second (60 = one simulated hour per minute). */
  speed?: number;
  topicRoot?: string;
  /** Simulated seconds to play; undefined = until stop(). */
  durationSec?: number;
  /** Simulated start, epoch ms (ignored with `clock`: the run starts at the clock's time). */
  startTs?: number;
  reportEverySec?: number;
  faults?: FaultSpec[];
  /** QoS of telemetry (SPEC allows 0 or 1); states and status are always QoS 1. Lockstep needs 1. */
  telemetryQos?: 0 | 1;
  tickMs?: number;
  /** Lockstep: the clock the service in this process runs on. */
  clock?: SimClock;
  /** Lockstep: the service's bus, so that time waits while a command is on its way to an actuator. */
  serviceBus?: CommandSource;
  /** Lockstep: longest simulated step, seconds (default 10). Readings arrive at the end of their step. */
  stepSec?: number;
  /** Lockstep: how long one step may wait for acknowledgements before going on regardless, ms (default 10 s). */
  stepTimeoutMs?: number;
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
  /** Tag-read messages of gate readers. */
  tagMessages: number;
  commands: number;
  acked: number;
  errors: number;
  /** Messages per second over the last progress interval. */
  ratePerSec: number;
  simTs: number;
  simElapsedSec: number;
  wallElapsedMs: number;
  /** Lockstep: steps that gave up waiting for acknowledgements. */
  stalls: number;
  finished: boolean;
  lastError?: string;
  /** Set when another client fought for the devices' ids (simulators/takeover.ts): the run stopped. */
  conflict?: string;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createSimulatorRunner(o: SimulatorRunnerOptions): SimulatorRunner {
  const speed = o.speed ?? 1;
  const tickMs = o.tickMs ?? 250;
  const log = o.logger;
  const clock = o.clock;
  if (clock && o.telemetryQos === 0) throw new RangeError('lockstep needs telemetry at QoS 1: the runner waits for the acknowledgements');
  const startTs = clock ? clock.now() : (o.startTs ?? defaultStartTs(Date.now(), speed, o.durationSec));
  const simulation = createFarmSimulation({
    farm: o.farm,
    scenario: o.scenario,
    seed: o.seed,
    speed,
    startTs,
    reportEverySec: o.reportEverySec,
    faults: o.faults,
  });
  const devices = simulation.devices();
  const s: RunnerStats = {
    devices: devices.length,
    skipped: 0,
    connected: 0,
    sent: 0,
    telemetry: 0,
    states: 0,
    tagMessages: 0,
    commands: 0,
    acked: 0,
    errors: 0,
    ratePerSec: 0,
    simTs: simulation.now(),
    simElapsedSec: 0,
    wallElapsedMs: 0,
    stalls: 0,
    finished: false,
  };
  let wallStart = 0;
  let tick: NodeJS.Timeout | undefined;
  let progress: NodeJS.Timeout | undefined;
  let lastSent = 0;
  let lastProgressAt = 0;
  let stopping: Promise<RunnerStats> | undefined;
  let loop: Promise<void> | undefined;
  let resolveDone!: (stats: RunnerStats) => void;
  const done = new Promise<RunnerStats>((resolve) => (resolveDone = resolve));

  function fail(err: unknown, device?: string): void {
    s.errors++;
    s.lastError = `${device ? `${device}: ` : ''}${(err as Error).message ?? String(err)}`;
  }

  const takeover = createTakeoverWatch({ devices: devices.length });
  const fleet = createDeviceFleet({
    brokerUrl: o.brokerUrl,
    brokerTls: o.brokerTls,
    topicRoot: o.topicRoot ?? 'farm',
    devices,
    telemetryQos: o.telemetryQos ?? 1,
    onConnect: (device) => {
      const state = simulation.actuator(device);
      if (state) fleet.publish(device, 'state', { state: state.state, value: state.value, ts: simulation.now() });
    },
    onCommand: (device, payload) => {
      s.commands++;
      lockstep?.received(device, payload);
      const ack = simulation.command(device, payload);
      if (ack) {
        s.acked++;
        fleet.publish(device, 'state', ack.payload);
      }
    },
    onSent: (_device, channel) => {
      s.sent++;
      if (channel === 'telemetry') s.telemetry++;
      else if (channel === 'tags') s.tagMessages++;
      else s.states++;
    },
    onError: (err, device, fatal) => {
      fail(err, device);
      if (fatal) log?.error({ device }, `broker refused ${device} (${err.message}): check its secret in the config or secrets file`);
    },
    onClosedByBroker: (device) => {
      if (s.conflict || !takeover.closed(device, Date.now())) return;
      // Fighting on would only keep the service's view of these devices flickering: stop and say why.
      s.conflict = TAKEOVER_HELP;
      log?.error(`stopping: ${TAKEOVER_HELP}`);
      void stop();
    },
  });

  const lockstep: Lockstep | undefined = clock
    ? createLockstep({ clock, simulation, fleet, startTs, dispatch: (out) => dispatch(out), commands: o.serviceBus, timeoutMs: o.stepTimeoutMs ?? 10_000 })
    : undefined;

  for (const w of simulation.warnings) log?.warn(w);
  if (!clock && speed > 1 && o.durationSec === undefined && o.startTs === undefined) {
    log?.warn({ speed }, 'simulated time runs ahead of the clock with no duration: the service rejects readings stamped more than MAX_FUTURE_SKEW ahead');
  }
  for (const f of simulation.faults) log?.info({ device: f.device, fault: f.kind, fromSec: f.fromSec, toSec: f.toSec }, 'fault planned');

  function dispatch(out: SimOutput[]): void {
    for (const m of out) {
      if (m.channel !== 'connection') {
        fleet.publish(m.device, m.channel, m.payload);
        continue;
      }
      const password = o.secrets(m.device);
      if (!m.online && fleet.has(m.device)) fleet.drop(m.device);
      else if (m.online && !fleet.has(m.device) && password) fleet.connect(m.device, password);
    }
  }

  /** Simulated seconds the run may have reached by now: speed × real time, within the duration. */
  function wallTarget(): number {
    const target = ((Date.now() - wallStart) / 1000) * speed;
    return o.durationSec !== undefined ? Math.min(target, o.durationSec) : target;
  }

  function playTo(target: number): void {
    try {
      dispatch(simulation.advance(target - simulation.elapsedSec()));
    } catch (err) {
      fail(err);
      log?.error({ err }, 'simulation step failed');
    }
  }

  const reachedEnd = () => o.durationSec !== undefined && simulation.elapsedSec() >= o.durationSec - 1e-9;

  function finish(): void {
    if (s.finished) return;
    s.finished = true;
    void stop();
  }

  function onTick(): void {
    playTo(wallTarget());
    if (reachedEnd()) finish();
  }

  /**
   * Lockstep: a step at a time, each one only when the service has taken in the last. Steps end on whole
   * multiples of stepSec, so a run is the same whatever the machine's pace; speed only holds it back.
   */
  async function runLockstep(ls: Lockstep): Promise<void> {
    const stepSec = o.stepSec ?? 10;
    while (!stopping) {
      if (reachedEnd()) return finish();
      const elapsed = simulation.elapsedSec();
      let next = (Math.floor(elapsed / stepSec + 1e-9) + 1) * stepSec;
      if (o.durationSec !== undefined) next = Math.min(next, o.durationSec);
      const aheadMs = ((next - ((Date.now() - wallStart) / 1000) * speed) / speed) * 1000;
      if (aheadMs > 0) {
        await sleep(Math.min(aheadMs, tickMs));
        continue;
      }
      if (!(await ls.playTo(next))) {
        s.stalls++;
        log?.warn({ inFlight: fleet.inFlight(), simTs: simulation.now() }, 'a simulation step was not acknowledged in time; going on');
      }
    }
  }

  function snapshot(): RunnerStats {
    s.connected = fleet.connectedCount();
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
      fleet.connect(d.device, password);
    }
    const waitUntil = Date.now() + (o.connectWaitMs ?? 5000);
    while (Date.now() < waitUntil && fleet.connecting() > 0) await sleep(50);
    // Lockstep: the actuators' first states reach the service before time starts.
    if (clock) await fleet.idle(o.stepTimeoutMs ?? 10_000);
    log?.info(
      { connected: fleet.connectedCount(), devices: devices.length, skipped: s.skipped, scenario: simulation.scenario.name, speed, lockstep: !!clock },
      'simulated farm running',
    );
    wallStart = Date.now();
    lastProgressAt = wallStart;
    if (lockstep) loop = runLockstep(lockstep).catch((err) => fail(err));
    else tick = setInterval(onTick, tickMs);
    progress = setInterval(reportProgress, o.progressEveryMs ?? 1000);
  }

  function stop(): Promise<RunnerStats> {
    stopping ??= (async () => {
      clearInterval(tick);
      clearInterval(progress);
      await loop;
      lockstep?.close();
      await fleet.closeAll();
      reportProgress();
      const final = snapshot();
      final.connected = 0;
      resolveDone(final);
      return final;
    })();
    return stopping;
  }

  return { simulation, start, stop, stats: snapshot, done };
}
