import type { ActuatorType } from '../core/domain.js';
import type { ZoneSim, SensorBinding } from './zones.js';
import { levelPct } from './models/actuator.js';
import * as shed from './models/shed.js';
import * as field from './models/field.js';
import * as drainage from './models/drainage.js';
import type { Outdoor } from './models/weather.js';

/** One step of every zone model, and what each sensor reads from its zone. */
export interface StepContext {
  outdoor: Outdoor;
  localHour: number;
  rainAt(tSecFromStart: number): number;
  tSec: number;
}

const levels = (z: ZoneSim, type: ActuatorType) => z.actuators.filter((a) => a.type === type).map((a) => levelPct(a.state));
const maxLevel = (z: ZoneSim, type: ActuatorType) => Math.max(0, ...levels(z, type));

export function outflowM3s(z: ZoneSim): number {
  if (z.model.kind === 'pipe') return z.model.state.outflowM3s;
  if (z.model.kind === 'sump') return z.model.state.pumpedM3h / 3600;
  return 0;
}

const zoneIndex = new WeakMap<ZoneSim[], Map<string, ZoneSim>>();

/** Advances every zone by dtSec with the actuators as they are now. Zones are in flow order. */
export function stepZones(zones: ZoneSim[], ctx: StepContext, dtSec: number): void {
  let bySite = zoneIndex.get(zones);
  if (!bySite) zoneIndex.set(zones, (bySite = new Map(zones.map((z) => [`${z.site}/${z.zone}`, z]))));
  for (const z of zones) {
    const m = z.model;
    const upstreamM3s = z.upstream.reduce((sum, u) => sum + outflowM3s(bySite.get(`${z.site}/${u}`)!), 0);
    if (m.kind === 'shed') {
      const shutters = levels(z, 'shutter');
      const shutterOpenPct = shutters.length ? shutters.reduce((a, b) => a + b, 0) / shutters.length : 30;
      m.state = shed.step(m.state, { outdoor: ctx.outdoor, fanSpeedsPct: levels(z, 'fan'), sprayOn: maxLevel(z, 'spray') > 0, shutterOpenPct }, dtSec);
    } else if (m.kind === 'field') {
      const valves = z.actuators.some((a) => a.type === 'valve');
      const pumps = z.actuators.some((a) => a.type === 'pump');
      const irrigationPct = valves && pumps ? (maxLevel(z, 'pump') > 0 ? maxLevel(z, 'valve') : 0) : Math.max(maxLevel(z, 'valve'), maxLevel(z, 'pump'));
      m.state = field.step(m.state, { outdoor: ctx.outdoor, irrigationPct }, dtSec);
    } else if (m.kind === 'pipe') {
      if (z.silting) m.state = { ...m.state, params: { ...m.state.params, blockage: siltAt(z.silting, ctx.tSec) } };
      // A sump downstream that has filled above this pipe's invert backs water up into it (as of the last step).
      const down = z.downstream ? bySite.get(`${z.site}/${z.downstream}`) : undefined;
      const outlet = down?.model.kind === 'sump' ? drainage.sumpOutlet(down.model.state, maxLevel(down, 'pump')) : undefined;
      m.state = drainage.stepPipe(m.state, { rainMmPerHour: ctx.outdoor.rainMmPerHour, upstreamM3s, localHour: ctx.localHour, ...outlet }, dtSec);
    } else if (m.kind === 'sump') {
      m.state = drainage.stepSump(m.state, { rainMmPerHour: ctx.outdoor.rainMmPerHour, upstreamM3s, pumpPct: maxLevel(z, 'pump') }, dtSec);
    }
    for (const s of z.sensors) {
      if (s.gauge) s.gauge.state = drainage.stepGauge(s.gauge.state, ctx.rainAt(ctx.tSec - s.gauge.lagSec) * s.gauge.factor, dtSec);
    }
  }
}

function siltAt(s: NonNullable<ZoneSim['silting']>, tSec: number): number {
  if (tSec <= s.startSec) return 0;
  return s.blockage * Math.min(1, (tSec - s.startSec) / Math.max(1, s.rampSec));
}

/** The true metrics a sensor would measure now, before faults; consumes the sensor's own noise stream. */
export function readSensor(z: ZoneSim, s: SensorBinding): Record<string, number> {
  let all: Record<string, number> = {};
  const m = z.model;
  if (s.readsZone) {
    if (m.kind === 'shed') all = shed.read(m.state, s.rng);
    else if (m.kind === 'field') all = field.read(m.state, s.rng);
    else if (m.kind === 'pipe') all = drainage.readPipe(m.state, s.rng);
    else if (m.kind === 'sump') all = drainage.readSump(m.state, s.rng);
  }
  if (s.gauge) {
    const report = drainage.takeGaugeReport(s.gauge.state);
    s.gauge.state = report.state;
    all.rain_mm = report.rainMm;
  }
  if (!s.metrics) return defaultMetrics(z, all);
  return Object.fromEntries(s.metrics.filter((name) => name in all).map((name) => [name, all[name]]));
}

/** Without a metrics list a shed sensor reports its climate set (no light), others everything they measure. */
function defaultMetrics(z: ZoneSim, all: Record<string, number>): Record<string, number> {
  if (z.model.kind !== 'shed') return all;
  const { light: _light, ...climate } = all;
  return climate;
}
