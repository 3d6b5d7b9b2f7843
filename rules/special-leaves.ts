import type { Reading } from '../core/domain.js';
import { isDry, learn, localDayHour, noteRain, reference, seen, type BaselineState } from './baseline.js';
import type { ActuatorLeaf, MetricLeaf } from './compile.js';
import type { ActuatorReport, LeafState, RuleState } from './evaluate.js';
import { step } from './levels.js';
import { aggregate } from './window.js';

/**
 * The conditions beyond a value against a threshold: windows over some hours of the local day, a device's learned
 * dry-weather baseline, and what the zone's actuators report. Pure, called by evaluate.ts.
 */

/**
 * A window's aggregate. A window over some hours of the day ("the coolest THI of last night") is judged only once
 * it has been watched for nearly its whole length (95 %): the first evening after a start must not count as a night.
 */
export function windowValue(state: RuleState, i: number, now: number): number | undefined {
  const leaf = state.rule.leaves[i] as MetricLeaf;
  const ls = state.leaves[i];
  const w = leaf.window!;
  if (w.hours && (ls.watchedSince === undefined || now - ls.watchedSince < 0.95 * w.ms)) return undefined;
  return aggregate(ls.window!, w.agg, now, state.specs[i].base);
}

/** `hours` of a window: [fromMin, toMin) of the local day, wrapping midnight when from > to. */
export function inHours(h: { fromMin: number; toMin: number }, minute: number): boolean {
  if (h.fromMin === h.toMin) return true;
  return h.fromMin < h.toMin ? minute >= h.fromMin && minute < h.toMin : minute >= h.fromMin || minute < h.toMin;
}

/**
 * A baseline leaf: gauges' readings tell it when it last rained; its own device's readings are learned when dry
 * and judged against the level learned for their local hour. While it is not dry weather (or too little is
 * learned) the leaf keeps its level: rain neither raises nor clears a silting alert. Returns whether it was touched.
 */
export function readBaseline(state: RuleState, i: number, leaf: MetricLeaf, r: Reading, now: number): boolean {
  const spec = leaf.baseline!;
  const ls = state.leaves[i];
  const b = ls.aux as BaselineState;
  if (spec.rain.includes(r.device)) {
    const mm = r.metrics.rain_mm;
    if (mm === undefined) return false;
    noteRain(b, r.ts, mm);
    if (!isDry(b, spec, now)) ls.pendingLevel = ls.pendingSince = undefined;
    return true;
  }
  if (state.device ? r.device !== state.device : r.site !== state.site || r.zone !== state.zone) return false;
  const v = r.metrics[leaf.metric];
  if (v === undefined) return false;
  seen(b, r.ts);
  const at = localDayHour(state.timeZone, r.ts);
  const ref = reference(b, spec, at);
  if (isDry(b, spec, r.ts)) learn(b, spec, at, v);
  if (ls.lastTs !== undefined && r.ts < ls.lastTs) return true; // a late reading teaches, but a newer value is judged
  ls.lastTs = r.ts;
  if (ref === undefined || !isDry(b, spec, now)) {
    ls.pendingLevel = ls.pendingSince = undefined;
    return true;
  }
  ls.value = Math.round((v - ref) * 1000) / 1000;
  step(state.specs[i].levels, leaf, ls, now);
  return true;
}

export function watches(state: RuleState, leaf: ActuatorLeaf, a: ActuatorReport): boolean {
  if (leaf.device) return a.device === leaf.device;
  return a.type === leaf.type && a.site === state.site && a.zone === state.zone;
}

/** An actuator condition holds once some matching actuator has been in the wanted state for `for` without a break. */
export function actuatorReport(leaf: ActuatorLeaf, ls: LeafState, a: ActuatorReport, now: number): void {
  const devices = ls.aux as Map<string, boolean>;
  devices.set(a.device, a.on);
  const wanted = [...devices.values()].some((on) => on === (leaf.is === 'on'));
  if (!wanted) {
    ls.level = -1;
    ls.pendingSince = undefined;
    return;
  }
  ls.pendingSince ??= now;
  if (now - ls.pendingSince >= leaf.forMs) ls.level = 0;
}
