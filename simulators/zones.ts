import type { ActuatorType, ZoneKind } from '../core/domain.js';
import type { FarmConfigT, ZoneT } from '../core/config/schema.js';
import type { Scenario } from './scenarios.js';
import { attr, boolAttr, diameterM, listAttr, numberAttr, shareAttr } from './attributes.js';
import { type ActuatorSimState, initialActuator } from './models/actuator.js';
import * as shed from './models/shed.js';
import * as field from './models/field.js';
import * as drainage from './models/drainage.js';
import { type Rng, createRng, deriveSeed } from './models/rng.js';
import type { Outdoor } from './models/weather.js';

/**
 * Maps each zone of the farm file to a model. Shed zones get the shed model, field zones the field model;
 * a drain zone is a sump when it has a pump (or `sump: true`), otherwise a pipe if it has a level sensor.
 * Any sensor whose metrics are only `rain_mm`, or a sensor in a zone marked `gauge: true`, is a rain gauge;
 * a field sensor listing `rain_mm` among its metrics gets a gauge too.
 */
export type ZoneModel =
  | { kind: 'shed'; state: shed.ShedState }
  | { kind: 'field'; state: field.FieldState }
  | { kind: 'pipe'; state: drainage.PipeState }
  | { kind: 'sump'; state: drainage.SumpState }
  | { kind: 'none' };

export interface SensorBinding {
  device: string;
  site: string;
  zone: string;
  zoneKind: ZoneKind;
  /** Metrics from the config; undefined = everything the model measures. */
  metrics?: string[];
  /** Reads the zone's model (climate, soil, level); false for a pure rain gauge. */
  readsZone: boolean;
  gauge?: { state: drainage.GaugeState; factor: number; lagSec: number };
  rng: Rng;
}

export interface ActuatorBinding {
  device: string;
  site: string;
  zone: string;
  type: ActuatorType;
  state: ActuatorSimState;
}

export interface ZoneSim {
  site: string;
  zone: string;
  kind: ZoneKind;
  model: ZoneModel;
  sensors: SensorBinding[];
  actuators: ActuatorBinding[];
  /** Zones (same site) whose outflow enters this one. */
  upstream: string[];
  /** The zone this one drains into (the inverse of `upstream`), for backwater from a sump. */
  downstream?: string;
  /** A pipe that silts up during the run: its blockage grows from 0 to `blockage` over rampSec from startSec. */
  silting?: { startSec: number; rampSec: number; blockage: number };
}

export interface BuiltFarm {
  zones: ZoneSim[]; // in flow order: upstream before downstream
  warnings: string[];
}

const isGaugeOnly = (metrics?: string[]) => metrics !== undefined && metrics.length > 0 && metrics.every((m) => m === 'rain_mm');

function shedModel(z: ZoneT, setup: ReturnType<Scenario['shed']>, outdoor: Outdoor, rng: Rng): ZoneModel {
  const heads = numberAttr(z.attributes, 'head_count', 'heads', 'sheep', 'animals') ?? 200;
  const params = shed.defaultShedParams(heads, {
    ...(numberAttr(z.attributes, 'floor_area_m2', 'area_m2') !== undefined && { floorAreaM2: numberAttr(z.attributes, 'floor_area_m2', 'area_m2') }),
    ...(numberAttr(z.attributes, 'fan_flow_m3h') !== undefined && { fanFlowM3h: numberAttr(z.attributes, 'fan_flow_m3h') }),
    ...setup.params,
  });
  const start = { temperatureC: outdoor.temperatureC + 2, humidityPct: Math.min(90, outdoor.humidityPct + 5), ...setup.start };
  return { kind: 'shed', state: shed.initialState(params, rng, start) };
}

function pipeParams(z: ZoneT, silted: boolean): drainage.PipeParams {
  const a = z.attributes;
  const given: Partial<drainage.PipeParams> = {};
  // A separate sewage pipe carries sewage all day and little rain; a storm pipe the other way round.
  if (attr(a, 'sewer') === 'sewage') Object.assign(given, { rainShare: 0.1, baseFlowShare: 0.2 });
  else if (attr(a, 'sewer') === 'storm') given.baseFlowShare = 0.02;
  const ground = numberAttr(a, 'depth_m', 'depth_below_ground_m', 'invert_depth_m');
  if (ground !== undefined) given.depthBelowGroundM = ground;
  const d = diameterM(a);
  if (d !== undefined) given.diameterM = d;
  const slope = numberAttr(a, 'slope');
  if (slope !== undefined) given.slope = slope > 0.2 ? slope / 1000 : slope; // ‰ or a ratio
  const catchment = numberAttr(a, 'catchment_ha', 'catchment');
  if (catchment !== undefined) given.catchmentHa = catchment;
  const lag = numberAttr(a, 'lag_min');
  if (lag !== undefined) given.lagMin = lag;
  const blockage = shareAttr(a, 'blockage', 'silt', 'silt_pct', 'blockage_pct');
  if (blockage !== undefined) given.blockage = blockage;
  else if (silted) given.blockage = 0.7;
  return drainage.defaultPipeParams(given);
}

/** Orders zones so that every zone comes after the zones draining into it; cycles are broken with a warning. */
function flowOrder(zones: ZoneSim[], warnings: string[]): ZoneSim[] {
  const byId = new Map(zones.map((z) => [`${z.site}/${z.zone}`, z]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: ZoneSim[] = [];
  const visit = (z: ZoneSim) => {
    const key = `${z.site}/${z.zone}`;
    if (done.has(key)) return;
    if (visiting.has(key)) {
      warnings.push(`pipes around ${key} form a loop; the link is ignored`);
      return;
    }
    visiting.add(key);
    z.upstream = z.upstream.filter((u) => {
      const up = byId.get(`${z.site}/${u}`);
      if (!up) warnings.push(`zone ${key} names upstream "${u}", which is not a zone of site ${z.site}`);
      else visit(up);
      return up !== undefined && !visiting.has(`${z.site}/${u}`);
    });
    visiting.delete(key);
    done.add(key);
    out.push(z);
  };
  zones.forEach(visit);
  return out;
}

export function buildFarm(farm: FarmConfigT, scenario: Scenario, seed: number, outdoorAtStart: Outdoor): BuiltFarm {
  const warnings: string[] = [];
  const zones: ZoneSim[] = [];
  const explicitCatchment = new Set<string>();
  const sizedByUpstream = new Set<string>();
  let shedIndex = 0;
  let fieldIndex = 0;
  for (const site of farm.sites) {
    for (const z of site.zones) {
      const rng = createRng(deriveSeed(seed, `zone:${site.id}/${z.id}`));
      const shedSetup = z.kind === 'shed' ? scenario.shed(shedIndex++) : undefined;
      const fieldSetup = z.kind === 'field' ? scenario.field(fieldIndex++) : undefined;
      const sensors: SensorBinding[] = z.devices
        .filter((d) => d.role === 'sensor')
        .map((d) => {
          const gaugeOnly =
            isGaugeOnly(d.metrics) ||
            (z.kind === 'drain' && (boolAttr(z.attributes, 'gauge', 'rain_gauge') === true || /gauge/.test(String(attr(z.attributes, 'type') ?? ''))));
          const wantsRain = gaugeOnly || (d.metrics?.includes('rain_mm') ?? false);
          const g = createRng(deriveSeed(seed, `gauge:${d.id}`));
          return {
            device: d.id,
            site: site.id,
            zone: z.id,
            zoneKind: z.kind,
            metrics: d.metrics,
            readsZone: !gaugeOnly,
            // Gauges a few km apart see the same storm a few minutes apart and ±5 % different.
            gauge: wantsRain ? { state: drainage.initialGaugeState(), factor: g.uniform(0.97, 1.08), lagSec: g.uniform(0, 600) } : undefined,
            rng: createRng(deriveSeed(seed, `sensor:${d.id}`)),
          };
        });
      const actuators: ActuatorBinding[] = z.devices
        .filter((d) => d.role === 'actuator' && d.type)
        .map((d) => {
          const type = d.type as ActuatorType;
          const start = type === 'fan' || type === 'spray' || type === 'shutter' ? shedSetup?.[type] : undefined;
          return { device: d.id, site: site.id, zone: z.id, type, state: initialActuator(type, start) };
        });
      const hasLevelSensor = sensors.some((s) => s.readsZone);
      let model: ZoneModel = { kind: 'none' };
      if (z.kind === 'shed') model = shedModel(z, shedSetup ?? {}, outdoorAtStart, rng);
      else if (z.kind === 'field')
        model = {
          kind: 'field',
          state: field.initialState(
            field.defaultFieldParams({
              ...(numberAttr(z.attributes, 'irrigation_mm_h') !== undefined && { irrigationMmPerHour: numberAttr(z.attributes, 'irrigation_mm_h') }),
              ...fieldSetup?.params,
            }),
            rng,
            fieldSetup?.start,
          ),
        };
      else if (actuators.some((a) => a.type === 'pump') || boolAttr(z.attributes, 'sump') === true || attr(z.attributes, 'type') === 'sump') {
        if (numberAttr(z.attributes, 'pump_m3h', 'pump_capacity_m3h') === undefined) sizedByUpstream.add(`${site.id}/${z.id}`);
        const params = drainage.defaultSumpParams({
          ...(numberAttr(z.attributes, 'area_m2') !== undefined && { areaM2: numberAttr(z.attributes, 'area_m2') }),
          ...(numberAttr(z.attributes, 'depth_m') !== undefined && { depthM: numberAttr(z.attributes, 'depth_m') }),
          ...(numberAttr(z.attributes, 'inlet_level_m') !== undefined && { inletLevelM: numberAttr(z.attributes, 'inlet_level_m') }),
          ...(numberAttr(z.attributes, 'pump_m3h', 'pump_capacity_m3h') !== undefined && {
            pumpCapacityM3h: numberAttr(z.attributes, 'pump_m3h', 'pump_capacity_m3h'),
          }),
          ...(numberAttr(z.attributes, 'catchment_ha') !== undefined && { catchmentHa: numberAttr(z.attributes, 'catchment_ha') }),
        });
        model = { kind: 'sump', state: drainage.initialSumpState(params) };
      } else if (hasLevelSensor) {
        if (numberAttr(z.attributes, 'catchment_ha', 'catchment') !== undefined) explicitCatchment.add(`${site.id}/${z.id}`);
        model = { kind: 'pipe', state: drainage.initialPipeState(pipeParams(z, boolAttr(z.attributes, 'silted', 'silting', 'blocked') === true)) };
      }
      zones.push({ site: site.id, zone: z.id, kind: z.kind, model, sensors, actuators, upstream: listAttr(z.attributes, 'upstream', 'inflow_from') });
    }
  }
  for (const z of zones) {
    const source = farm.sites.find((s) => s.id === z.site)?.zones.find((c) => c.id === z.zone);
    for (const down of listAttr(source?.attributes, 'downstream', 'outflow_to')) {
      const target = zones.find((t) => t.site === z.site && t.zone === down);
      if (target && !target.upstream.includes(z.zone)) target.upstream.push(z.zone);
      else if (!target) warnings.push(`zone ${z.site}/${z.zone} names downstream "${down}", which is not a zone of site ${z.site}`);
    }
  }
  if (scenario.siltOnePipe) siltOnePipe(zones, seed);
  if (scenario.silting) siltDuringRun(zones, seed, scenario.silting);
  const ordered = flowOrder(zones, warnings);
  for (const z of ordered)
    for (const u of z.upstream) {
      const up = ordered.find((o) => o.site === z.site && o.zone === u);
      if (up) up.downstream = z.zone;
    }
  shareCatchments(ordered, explicitCatchment);
  sizeSumps(ordered, sizedByUpstream);
  return { zones: ordered, warnings };
}

/**
 * A pumping station at the end of a trunk sewer: without a `pump_m3h`, its pump takes 0.9 × the full-bore capacity
 * of the pipes draining into it (a storm beyond their design fills the sump and backs water up the trunk), and a
 * wet well that the full inflow fills at about 3 m/h (a level sensor reporting every few minutes keeps up with it).
 */
function sizeSumps(ordered: ZoneSim[], sized: Set<string>): void {
  for (const z of ordered) {
    if (z.model.kind !== 'sump' || !sized.has(`${z.site}/${z.zone}`)) continue;
    const upstreamM3h = z.upstream
      .map((u) => ordered.find((o) => o.site === z.site && o.zone === u)?.model)
      .reduce((sum, m) => sum + (m?.kind === 'pipe' ? drainage.fullCapacityM3s(m.state.params) * 3600 : 0), 0);
    if (upstreamM3h === 0) continue;
    const p = z.model.state.params;
    const pumpCapacityM3h = Math.max(p.pumpCapacityM3h, 0.9 * upstreamM3h);
    const params = { ...p, pumpCapacityM3h, areaM2: Math.max(p.areaM2, upstreamM3h / 3) };
    z.model = { kind: 'sump', state: drainage.initialSumpState(params) };
  }
}

/**
 * A pipe without a `catchment_ha` drains the area it was designed for; a downstream pipe's own area is what
 * its capacity leaves after its upstream pipes' areas (at least a quarter of its design area).
 */
function shareCatchments(ordered: ZoneSim[], explicit: Set<string>): void {
  const contributing = new Map<string, number>();
  for (const z of ordered) {
    const key = `${z.site}/${z.zone}`;
    const upstreamHa = z.upstream.reduce((sum, u) => sum + (contributing.get(`${z.site}/${u}`) ?? 0), 0);
    if (z.model.kind === 'pipe') {
      const params = z.model.state.params;
      const own = explicit.has(key) ? params.catchmentHa : Math.max(0.25 * params.catchmentHa, params.catchmentHa - upstreamHa);
      if (own !== params.catchmentHa) z.model = { kind: 'pipe', state: drainage.initialPipeState({ ...params, catchmentHa: own }) };
      contributing.set(key, own + upstreamHa);
    } else if (z.model.kind === 'sump') contributing.set(key, z.model.state.params.catchmentHa + upstreamHa);
  }
}

/** One pipe, chosen by the seed, silts up while the scenario plays (learned as clean before). */
function siltDuringRun(zones: ZoneSim[], seed: number, silting: NonNullable<Scenario['silting']>): void {
  const pipes = zones.filter((z) => z.model.kind === 'pipe');
  if (pipes.length === 0) return;
  const chosen = createRng(deriveSeed(seed, 'silt')).pick(pipes);
  chosen.silting = silting;
}

/** The blocked-pipe scenario silts one pipe (chosen by the seed) unless the config already marks one. */
function siltOnePipe(zones: ZoneSim[], seed: number): void {
  const pipes = zones.filter((z): z is ZoneSim & { model: { kind: 'pipe'; state: drainage.PipeState } } => z.model.kind === 'pipe');
  if (pipes.length === 0 || pipes.some((p) => p.model.state.params.blockage > 0)) return;
  const chosen = createRng(deriveSeed(seed, 'silt')).pick(pipes);
  chosen.model = { kind: 'pipe', state: drainage.initialPipeState({ ...chosen.model.state.params, blockage: 0.7 }) };
}
