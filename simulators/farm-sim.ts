import type { ActuatorType, DeviceRole, ZoneKind } from '../core/domain.js';
import type { FarmConfigT } from '../core/config/schema.js';
import { type Scenario, type ScenarioName, getScenario } from './scenarios.js';
import { type ZoneModel, type ZoneSim, buildFarm } from './zones.js';
import { readSensor, stepZones } from './zone-step.js';
import { type ActuatorSimState, applyCommand, parseCommand, statePayload } from './models/actuator.js';
import { type FaultSpec, type SensorFaultState, applySensorFaults, initialFaultState, neverAcks, READER_FAULTS } from './models/faults.js';
import { createFlock, type Flock } from './models/flock.js';
import { createRng, deriveSeed } from './models/rng.js';
import { localHour, outdoorAt } from './models/weather.js';

/**
 * The simulated farm without a network: every zone of the farm file mapped to a model, simulated time that
 * advances when told, and the messages the devices would send. The runner carries them to a broker.
 */
export interface FarmSimulationOptions {
  farm: FarmConfigT;
  /** A scenario name (see SCENARIO_NAMES) or a scenario object. */
  scenario: ScenarioName | (string & {}) | Scenario;
  seed?: number;
  /** Only used for the default report interval: about one reading per device every 2 wall-clock seconds. */
  speed?: number;
  /** Simulated epoch ms at the start; defaults to now. */
  startTs?: number;
  /** Simulated seconds between two readings of one sensor. */
  reportEverySec?: number;
  /** Faults on demand, added to the scenario's own. */
  faults?: FaultSpec[];
  /** Longest model step, simulated seconds. */
  maxStepSec?: number;
}

export interface SimMessage {
  site: string;
  zone: string;
  device: string;
  channel: 'telemetry' | 'state' | 'tags';
  /** An object is sent as JSON; a string is sent as is (a deliberately malformed payload). */
  payload: Record<string, unknown> | string;
}

export interface SimConnectionEvent {
  site: string;
  zone: string;
  device: string;
  channel: 'connection';
  online: boolean;
}

export type SimOutput = SimMessage | SimConnectionEvent;

export interface SimDevice {
  site: string;
  zone: string;
  kind: ZoneKind;
  device: string;
  role: DeviceRole;
  type?: ActuatorType;
}

export interface FarmSimulation {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly startTs: number;
  readonly reportEverySec: number;
  /** Faults in effect, each with its device. */
  readonly faults: readonly FaultSpec[];
  /** Things in the farm file the simulator could not follow (unknown upstream zones …). */
  readonly warnings: readonly string[];
  devices(): SimDevice[];
  /** Simulated epoch ms. */
  now(): number;
  elapsedSec(): number;
  /** True once the scenario's duration has been played. */
  finished(): boolean;
  /** Retained states every actuator publishes when it connects. */
  initialStates(): SimMessage[];
  /** Moves simulated time forward, returning the readings (and connection changes) that fell due. */
  advance(dtSec: number): SimOutput[];
  /** Handles a command payload for an actuator; returns the acknowledging state, or undefined (bad command, never-ack fault). */
  command(deviceId: string, raw: unknown): SimMessage | undefined;
  actuator(deviceId: string): ActuatorSimState | undefined;
  /** The true state of a zone's model, for tests and summaries. */
  zone(site: string, zone: string): ZoneModel | undefined;
  /** The flocks walking through gate readers (models/flock.ts). */
  readonly flock: Flock;
  /** What the scenario did that the service is expected to notice: when its rain stops, which pipe silts up and when. */
  facts(): ScenarioFacts;
}

export interface ScenarioFacts {
  /** The last instant of rain in the scenario's series (gauges see it up to 10 min later), epoch ms. */
  lastRainTs?: number;
  silting?: { site: string; zone: string; fromTs: number };
}

function assignFaults(requested: FaultSpec[], devices: SimDevice[]): FaultSpec[] {
  const taken = new Set(requested.filter((f) => f.device).map((f) => f.device));
  return requested.map((f) => {
    if (f.device) return f;
    const role: DeviceRole = f.kind === 'never-ack' ? 'actuator' : READER_FAULTS.includes(f.kind) ? 'reader' : 'sensor';
    const candidates = devices.filter((d) => d.role === role);
    const pick = candidates.find((d) => !taken.has(d.device)) ?? candidates[0];
    if (pick) taken.add(pick.device);
    return { ...f, device: pick?.device };
  });
}

export function createFarmSimulation(options: FarmSimulationOptions): FarmSimulation {
  const scenario = typeof options.scenario === 'string' ? getScenario(options.scenario) : options.scenario;
  const seed = (options.seed ?? 1) >>> 0;
  const startTs = options.startTs ?? Date.now();
  const reportEverySec = options.reportEverySec ?? Math.max(10, 2 * (options.speed ?? 1));
  const maxStepSec = options.maxStepSec ?? 30;
  const weatherSeed = deriveSeed(seed, 'weather');
  const rain = scenario.rain(deriveSeed(seed, 'rain'));
  const outdoorFor = (tSec: number) => outdoorAt(scenario.weather, startTs + tSec * 1000, weatherSeed, rain(tSec));

  const built = buildFarm(options.farm, scenario, seed, outdoorFor(0));
  const zones: ZoneSim[] = built.zones;
  const deviceList: SimDevice[] = [];
  for (const site of options.farm.sites)
    for (const z of site.zones)
      for (const d of z.devices) deviceList.push({ site: site.id, zone: z.id, kind: z.kind, device: d.id, role: d.role, type: d.type });

  const sensors = zones.flatMap((z) => z.sensors.map((s) => ({ zone: z, sensor: s })));
  const actuators = new Map(zones.flatMap((z) => z.actuators.map((a) => [a.device, a] as const)));
  const faults = assignFaults(
    [...scenario.faults({ sensors: sensors.map((s) => s.sensor.device), actuators: [...actuators.keys()] }), ...(options.faults ?? [])],
    deviceList,
  ).filter((f) => f.device !== undefined);
  const faultsOf = new Map<string, FaultSpec[]>();
  for (const f of faults) faultsOf.set(f.device!, [...(faultsOf.get(f.device!) ?? []), f]);
  const faultState = new Map<string, SensorFaultState>(sensors.map((s) => [s.sensor.device, initialFaultState()]));
  const faultRng = createRng(deriveSeed(seed, 'faults'));

  // Devices do not all report at the same instant: each gets a seeded phase within the interval.
  const phaseRng = createRng(deriveSeed(seed, 'phase'));
  const nextReport = new Map(sensors.map((s) => [s.sensor.device, phaseRng.uniform(0, reportEverySec)]));
  let t = 0;

  const ts = () => Math.round(startTs + t * 1000);

  // Each shed with a gate reader walks its register's animals through that gate twice a day.
  const gateSheds = options.farm.sites.flatMap((site) =>
    site.zones.flatMap((z) => {
      const gate = z.devices.find((d) => d.role === 'reader' && (d.at ?? 'gate') === 'gate');
      if (!gate) return [];
      const animals = options.farm.animals.register.filter((a) => a.zone === z.id && (!a.site || a.site === site.id));
      return [{ site: site.id, zone: z.id, gate: gate.id, animals }];
    }),
  );
  const flock = createFlock(gateSheds, faults, seed);
  const localHourAt = (tSec: number) => localHour(startTs + tSec * 1000, scenario.weather.utcOffsetHours);
  function emitGateReads(out: SimOutput[]): void {
    for (const r of flock.advance(t, startTs, localHourAt)) out.push({ site: r.site, zone: r.zone, device: r.device, channel: 'tags', payload: r.payload });
  }

  function emitDue(out: SimOutput[]): void {
    for (const { zone, sensor } of sensors) {
      let due = nextReport.get(sensor.device)!;
      if (due > t + 1e-9) continue;
      while (due <= t + 1e-9) due += reportEverySec;
      nextReport.set(sensor.device, due);
      const reading = { ts: ts(), metrics: readSensor(zone, sensor) };
      const where = { site: sensor.site, zone: sensor.zone, device: sensor.device };
      const result = applySensorFaults(faultsOf.get(sensor.device) ?? [], faultState.get(sensor.device)!, reading, t, faultRng);
      faultState.set(sensor.device, result.state);
      for (const e of result.emissions) {
        if (e.type === 'connection') out.push({ ...where, channel: 'connection', online: e.online });
        else out.push({ ...where, channel: 'telemetry', payload: e.type === 'raw' ? e.payload : (e.payload as Record<string, unknown>) });
      }
    }
  }

  function stepTo(target: number): void {
    const dt = target - t;
    if (dt <= 0) return;
    const mid = t + dt / 2;
    const outdoor = outdoorFor(mid);
    stepZones(zones, { outdoor, localHour: localHour(startTs + mid * 1000, scenario.weather.utcOffsetHours), rainAt: rain, tSec: mid }, dt);
    t = target;
  }

  return {
    scenario,
    seed,
    startTs,
    reportEverySec,
    faults,
    warnings: built.warnings,
    devices: () => deviceList,
    now: ts,
    elapsedSec: () => t,
    finished: () => t >= scenario.durationSec,
    initialStates: () =>
      [...actuators.values()].map((a) => ({ site: a.site, zone: a.zone, device: a.device, channel: 'state' as const, payload: statePayload(a.state, ts()) })),
    advance(dtSec) {
      const out: SimOutput[] = [];
      const target = t + Math.max(0, dtSec);
      emitDue(out);
      emitGateReads(out);
      while (t < target - 1e-9) {
        const nextDue = Math.min(...nextReport.values());
        stepTo(Math.min(target, t + maxStepSec, nextDue > t ? nextDue : target));
        emitDue(out);
        emitGateReads(out);
      }
      return out;
    },
    command(deviceId, raw) {
      const a = actuators.get(deviceId);
      const cmd = parseCommand(raw);
      if (!a || !cmd) return undefined;
      if (neverAcks(faultsOf.get(deviceId) ?? [], t)) return undefined;
      a.state = applyCommand(a.state, cmd);
      return { site: a.site, zone: a.zone, device: a.device, channel: 'state', payload: statePayload(a.state, ts(), cmd.id) };
    },
    actuator: (id) => actuators.get(id)?.state,
    zone: (site, zone) => zones.find((z) => z.site === site && z.zone === zone)?.model,
    flock,
    facts() {
      let lastRainSec: number | undefined;
      for (let t = 0; t <= scenario.durationSec; t += 60) if (rain(t) > 0) lastRainSec = t;
      const silted = zones.find((z) => z.silting);
      return {
        lastRainTs: lastRainSec === undefined ? undefined : startTs + (lastRainSec + 60) * 1000,
        silting: silted?.silting && { site: silted.site, zone: silted.zone, fromTs: startTs + silted.silting.startSec * 1000 },
      };
    },
  };
}
