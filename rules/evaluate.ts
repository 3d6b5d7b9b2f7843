import type { ActuatorType, Reading, Severity } from '../core/domain.js';
import { localClock } from '../core/site-time.js';
import { createBaseline, type BaselineState } from './baseline.js';
import type { CompiledRule, CondNode, ScopeRef } from './compile.js';
import { step } from './levels.js';
import { inSchedule } from './schedule.js';
import { actuatorReport, inHours, readBaseline, watches, windowValue } from './special-leaves.js';
import { addSample, createWindow, evict, type WindowState } from './window.js';
import { resolveLeaves, type LeafSpec } from './zone-values.js';

/**
 * The pure decision of the rules engine: `evaluate(state, input, now) -> { state, effects }`.
 * No clock, no I/O: time comes in as `now`, readings and ticks as `input`. For speed (a reading visits
 * many rules) the state object is updated in place and returned; nothing else holds a reference to it.
 */
export interface LeafState {
  /** -1: not holding; otherwise the index of the level held (0 for a plain above/below). */
  level: number;
  /** A level the leaf is moving to, and since when the value has asked for it without a break. */
  pendingLevel?: number;
  pendingSince?: number;
  value?: number;
  /** Metric leaves: ts of the newest reading used; stale leaves: when the device was last heard. */
  lastTs?: number;
  window?: WindowState;
  /** A baseline condition's learned levels; an actuator condition's view of each matching actuator (on or not). */
  aux?: BaselineState | Map<string, boolean>;
  /** A window over some hours of the day: since when samples have been watched (it is judged once it spans the window). */
  watchedSince?: number;
}

export interface RuleState extends ScopeRef {
  rule: CompiledRule;
  key: string;
  /** The site's IANA zone: the rule's `schedule` is wall-clock time there. */
  timeZone: string;
  leaves: LeafState[];
  /** Per leaf: the thresholds of this instance's zone (zone values filled in). */
  specs: LeafSpec[];
  active: boolean;
  /** Index into the graded leaf's levels; -1 for ungraded rules or when not active. */
  level: number;
  since?: number;
  /**
   * The leaf whose metric and value the last effect reported: the sub-condition that fired the rule (of an
   * `any:`, the one that holds, not the first listed), or that ended it. -1 before the first effect.
   */
  cause: number;
}

/** What an actuator reported (its own state report): actuator conditions watch it. */
export interface ActuatorReport {
  site: string;
  zone: string;
  device: string;
  type: ActuatorType;
  on: boolean;
}

export type EvalInput = { type: 'reading'; reading: Reading } | { type: 'tick' } | { type: 'actuator'; report: ActuatorReport };

export type EffectKind = 'fired' | 'escalated' | 'deescalated' | 'cleared';

export interface RuleEffect {
  kind: EffectKind;
  ts: number;
  level?: string;
  levelIndex: number;
  severity?: Severity;
  value?: number;
  metric?: string;
}

/** `lastSeen` gives when a device (or, with no device, any sensor of the instance's zone) last reported, for stale conditions. */
export function createRuleState(
  rule: CompiledRule,
  ref: ScopeRef,
  key: string,
  now: number,
  lastSeen: (device?: string) => number | undefined = () => undefined,
  timeZone = 'UTC',
  specs: LeafSpec[] = specsWithoutZone(rule),
): RuleState {
  // Every field present from the start: one object shape keeps the hot loop monomorphic (fast) in V8.
  const leaves = rule.leaves.map((leaf): LeafState => ({
    level: -1,
    pendingLevel: undefined,
    pendingSince: undefined,
    value: undefined,
    lastTs: leaf.kind === 'stale' ? (lastSeen(leaf.device ?? ref.device) ?? now) : undefined,
    window: leaf.kind === 'metric' && leaf.window ? createWindow(leaf.window.ms) : undefined,
    aux: leaf.kind === 'metric' && leaf.baseline ? createBaseline() : leaf.kind === 'actuator' ? new Map<string, boolean>() : undefined,
    watchedSince: undefined,
  }));
  return {
    site: ref.site,
    zone: ref.zone,
    kind: ref.kind,
    device: ref.device,
    rule,
    key,
    timeZone,
    leaves,
    specs,
    active: false,
    level: -1,
    since: undefined,
    cause: -1,
  };
}

/** The thresholds of a rule that names no zone value (a rule that does must be resolved per zone: zone-values.ts). */
function specsWithoutZone(rule: CompiledRule): LeafSpec[] {
  const resolved = resolveLeaves(rule, {});
  if ('problem' in resolved) throw new Error(`rule "${rule.id}" needs its zone's values: ${resolved.problem}`);
  return resolved.specs;
}

export { targetLevel } from './levels.js';

export function evaluate(state: RuleState, input: EvalInput, now: number): { state: RuleState; effects: RuleEffect[] } {
  const { rule } = state;
  if (input.type === 'reading') {
    let touched = false;
    const r = input.reading;
    for (let i = 0; i < rule.leaves.length; i++) {
      const leaf = rule.leaves[i];
      const ls = state.leaves[i];
      if (leaf.kind === 'actuator') continue;
      if (leaf.kind === 'metric' && leaf.baseline) {
        if (readBaseline(state, i, leaf, r, now)) touched = true;
        continue;
      }
      if (!accepts(state, leaf.device, r)) continue;
      if (leaf.kind === 'stale') {
        // A device is alive when something arrives, whatever its timestamp (store-and-forward batches).
        ls.lastTs = now;
        ls.level = -1;
        touched = true;
        continue;
      }
      const v = r.metrics[leaf.metric];
      if (v === undefined) continue;
      touched = true;
      if (ls.window) {
        const hours = leaf.window!.hours;
        if (hours && (ls.watchedSince === undefined || r.ts < ls.watchedSince)) ls.watchedSince = r.ts;
        // A sample outside the window's hours is not counted, but it moves the judgement on.
        if (!hours || inHours(hours, localClock(state.timeZone, r.ts).minuteOfDay)) addSample(ls.window, r.ts, v, now);
        ls.value = windowValue(state, i, now);
      } else {
        if (ls.lastTs !== undefined && r.ts < ls.lastTs) continue; // late reading: a newer value already holds
        ls.value = v;
        ls.lastTs = r.ts;
      }
      step(state.specs[i].levels, leaf, ls, now);
    }
    if (!touched) return { state, effects: [] };
  } else if (input.type === 'actuator') {
    let touched = false;
    for (let i = 0; i < rule.leaves.length; i++) {
      const leaf = rule.leaves[i];
      if (leaf.kind === 'actuator' && watches(state, leaf, input.report)) {
        actuatorReport(leaf, state.leaves[i], input.report, now);
        touched = true;
      }
    }
    if (!touched) return { state, effects: [] };
  } else {
    for (let i = 0; i < rule.leaves.length; i++) tickLeaf(state, i, now);
  }
  return { state, effects: settle(state, now) };
}

function accepts(state: RuleState, pinned: string | undefined, r: Reading): boolean {
  if (pinned) return r.device === pinned;
  if (state.device) return r.device === state.device;
  return r.site === state.site && r.zone === state.zone;
}

function tickLeaf(state: RuleState, i: number, now: number): void {
  const leaf = state.rule.leaves[i];
  const ls = state.leaves[i];
  if (leaf.kind === 'stale') {
    ls.level = now - ls.lastTs! >= leaf.staleMs ? 0 : -1;
    return;
  }
  if (leaf.kind === 'actuator') {
    if (ls.pendingSince !== undefined && now - ls.pendingSince >= leaf.forMs) ls.level = 0;
    return;
  }
  if (ls.window) {
    // Only re-aggregate when samples aged out (or never computed): keeps a tick cheap for hundreds of rules.
    // degreeHours grows with time itself, so it is recomputed on every tick.
    if (evict(ls.window, now) || ls.value === undefined || leaf.window!.agg === 'degreeHours' || leaf.window!.hours) ls.value = windowValue(state, i, now);
    step(state.specs[i].levels, leaf, ls, now);
  } else if (ls.pendingLevel !== undefined) {
    step(state.specs[i].levels, leaf, ls, now);
  }
}

function holds(node: CondNode, leaves: LeafState[]): boolean {
  if ('leaf' in node) return leaves[node.leaf].level >= 0;
  if ('all' in node) return node.all.every((n) => holds(n, leaves));
  return node.any.some((n) => holds(n, leaves));
}

function settle(state: RuleState, now: number): RuleEffect[] {
  const { rule } = state;
  const active = inSchedule(rule.def.schedule, now, state.timeZone) && holds(rule.tree, state.leaves);
  const level = active && rule.levelLeaf >= 0 ? state.leaves[rule.levelLeaf].level : -1;
  const wasActive = state.active;
  const wasLevel = state.level;
  state.active = active;
  state.level = level;
  let kind: RuleEffect['kind'] | undefined;
  if (active && !wasActive) kind = 'fired';
  else if (!active && wasActive) kind = 'cleared';
  else if (active && level !== wasLevel) kind = level > wasLevel ? 'escalated' : 'deescalated';
  if (!kind) return [];
  if (kind === 'fired') state.since = now;
  state.cause = causeOf(state, kind);
  return [effectOf(state, kind, now)];
}

/**
 * The sub-condition an effect is about. Firing: the graded leaf when it holds (the level is its), else the first
 * metric condition that holds. Clearing: the one that fired it, now that it no longer holds, else the first that
 * stopped holding (of an `all:`, the one that broke). A level change: the graded leaf.
 */
function causeOf(state: RuleState, kind: EffectKind): number {
  const { rule, leaves } = state;
  const holding = (i: number) => leaves[i].level >= 0;
  const metricLeaves = rule.leaves.flatMap((l, i) => (l.kind === 'metric' ? [i] : []));
  if (kind === 'escalated' || kind === 'deescalated') return rule.levelLeaf;
  if (kind === 'fired') {
    if (rule.levelLeaf >= 0 && holding(rule.levelLeaf)) return rule.levelLeaf;
    return metricLeaves.find(holding) ?? rule.leaves.findIndex((_, i) => holding(i));
  }
  if (state.cause >= 0 && !holding(state.cause) && rule.leaves[state.cause].kind === 'metric') return state.cause;
  return metricLeaves.find((i) => !holding(i)) ?? state.cause;
}

function effectOf(state: RuleState, kind: EffectKind, now: number): RuleEffect {
  const { rule } = state;
  const index = state.cause >= 0 ? state.cause : rule.primaryLeaf;
  const leaf = rule.leaves[index];
  const spec = state.level >= 0 && rule.levelLeaf >= 0 ? state.specs[rule.levelLeaf].levels[state.level] : undefined;
  return {
    kind,
    ts: now,
    level: spec?.name,
    levelIndex: state.level,
    severity: spec?.severity,
    value: leaf?.kind === 'metric' ? state.leaves[index].value : undefined,
    metric: leaf?.kind === 'metric' ? leaf.metric : undefined,
  };
}

/**
 * Marks an instance active without evaluating it: used when an alert raised before a restart (or before
 * the rule was edited) is still open. Its leaves count as holding, so the ordinary clear path
 * (value past clearBelow for clearFor) ends it rather than a spurious clear and re-fire.
 */
export function adoptActive(state: RuleState, levelName: string | undefined, now: number): RuleState {
  const { rule } = state;
  rule.leaves.forEach((leaf, i) => {
    const ls = state.leaves[i];
    if (leaf.kind === 'stale' || leaf.kind === 'actuator') return;
    const named = i === rule.levelLeaf ? leaf.levels.findIndex((l) => l.name === levelName) : -1;
    ls.level = named >= 0 ? named : 0;
    ls.pendingLevel = ls.pendingSince = undefined;
  });
  state.active = true;
  state.level = rule.levelLeaf >= 0 ? state.leaves[rule.levelLeaf].level : -1;
  state.since = now;
  state.cause = rule.primaryLeaf;
  return state;
}

/** The effect that would announce the instance's current state (restart recovery fires with it). */
export function currentEffect(state: RuleState, kind: EffectKind, now: number): RuleEffect {
  return effectOf(state, kind, now);
}
