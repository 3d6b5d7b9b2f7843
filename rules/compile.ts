import type { ActuatorType, Severity } from '../core/domain.js';
import type { Agg } from './window.js';
import { enterOf, type ConditionT, type RuleT, type ThresholdT } from './schema.js';
import { scopeCovers, type ScopeRef } from './scope.js';

/**
 * A rule turned into what the evaluator runs: the condition tree flattened into leaves (each with its
 * own timers and window) and a tree of leaf indices, thresholds normalised into levels.
 */
export interface LevelSpec {
  name?: string;
  /** true: crossed when value > enter (>= with inclusive); false: when value < enter (<=). */
  up: boolean;
  /** atLeast / atMost: the threshold itself counts as crossed. */
  inclusive: boolean;
  enter: number;
  /** Held while the value has not passed this (hysteresis); equals enter when none is given. */
  clear: number;
  severity?: Severity;
}

/** A level as written: its thresholds may name a value of the instance's zone, resolved per instance (zone-values.ts). */
export type LevelDef = Omit<LevelSpec, 'enter' | 'clear'> & { enter: ThresholdT; clear: ThresholdT };

export interface BaselineSpec {
  days: number;
  minDays: number;
  dryAfterMs: number;
  rain: string[];
}

export interface MetricLeaf {
  kind: 'metric';
  metric: string;
  device?: string;
  levels: LevelDef[];
  forMs: number;
  clearForMs: number;
  /** `hours`: only samples at these local minutes of the day count ([fromMin, toMin), wrapping midnight). */
  window?: { ms: number; agg: Agg; base?: ThresholdT; hours?: { fromMin: number; toMin: number } };
  baseline?: BaselineSpec;
}

export interface StaleLeaf {
  kind: 'stale';
  staleMs: number;
  device?: string;
}

export interface ActuatorLeaf {
  kind: 'actuator';
  type: ActuatorType;
  is: 'on' | 'off';
  forMs: number;
  device?: string;
}

export type Leaf = MetricLeaf | StaleLeaf | ActuatorLeaf;
export type CondNode = { leaf: number } | { all: CondNode[] } | { any: CondNode[] };

export interface CompiledRule {
  id: string;
  def: RuleT;
  /** Canonical JSON of the definition: equal JSON = unchanged rule, whose state survives a replace. */
  json: string;
  leaves: Leaf[];
  tree: CondNode;
  metrics: string[];
  /** Devices named by a condition (`device:`, a baseline's rain gauges), read whichever instance is evaluated. */
  pinned: string[];
  hasStale: boolean;
  hasActuator: boolean;
  /** Some threshold names a zone value: each instance resolves its own (zone-values.ts). */
  zoneRefs: string[];
  /** The graded leaf whose level names the rule's level (the first one); -1 if none. */
  levelLeaf: number;
  /** The leaf whose value an alert reports. */
  primaryLeaf: number;
  /** How much history rebuilds this rule's state: the longest for + window (+ clearFor) of a leaf. */
  historyMs: number;
  /** Needs ticks between readings (timers, windows ageing out, staleness, schedule). */
  timed: boolean;
}

export type { ScopeRef } from './scope.js';

export function compileRule(def: RuleT): CompiledRule {
  const leaves: Leaf[] = [];
  const walk = (c: ConditionT): CondNode => {
    if ('all' in c) return { all: c.all.map(walk) };
    if ('any' in c) return { any: c.any.map(walk) };
    if ('stale' in c) leaves.push({ kind: 'stale', staleMs: c.stale, device: c.device });
    else if ('actuator' in c) leaves.push({ kind: 'actuator', type: c.actuator, is: c.is, forMs: c.for ?? 0, device: c.device });
    else leaves.push(metricLeaf(c));
    return { leaf: leaves.length - 1 };
  };
  const tree = walk(def.when);
  const metricLeaves = leaves.filter((l): l is MetricLeaf => l.kind === 'metric');
  const levelLeaf = leaves.findIndex((l) => l.kind === 'metric' && l.levels[0].name !== undefined);
  const firstMetric = leaves.findIndex((l) => l.kind === 'metric');
  const historyMs = Math.max(
    0,
    ...metricLeaves.map((l) => l.forMs + (l.window?.ms ?? 0) + l.clearForMs + (l.baseline ? l.baseline.days * 86_400_000 + l.baseline.dryAfterMs : 0)),
  );
  const zoneRefs = metricLeaves.flatMap((l) =>
    [...l.levels.flatMap((v) => [v.enter, v.clear]), l.window?.base].flatMap((t) => (t !== undefined && typeof t !== 'number' ? [t.zone] : [])),
  );
  const pinned = leaves.flatMap((l) =>
    l.kind === 'metric' ? [...(l.device ? [l.device] : []), ...(l.baseline?.rain ?? [])] : l.kind === 'stale' && l.device ? [l.device] : [],
  );
  return {
    id: def.id,
    def,
    json: canonicalJson(def),
    leaves,
    tree,
    metrics: [...new Set(metricLeaves.flatMap((l) => (l.baseline ? [l.metric, 'rain_mm'] : [l.metric])))],
    pinned: [...new Set(pinned)],
    hasStale: leaves.some((l) => l.kind === 'stale'),
    hasActuator: leaves.some((l) => l.kind === 'actuator'),
    zoneRefs: [...new Set(zoneRefs)],
    levelLeaf,
    primaryLeaf: levelLeaf >= 0 ? levelLeaf : Math.max(0, firstMetric),
    historyMs,
    timed:
      def.schedule !== undefined ||
      leaves.some((l) => l.kind === 'stale' || l.kind === 'actuator' || l.forMs > 0 || l.clearForMs > 0 || l.window !== undefined),
  };
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function metricLeaf(c: Extract<ConditionT, { metric: string }>): MetricLeaf {
  const levelOf = (t: Parameters<typeof enterOf>[0], name?: string, severity?: Severity): LevelDef => {
    const enter = enterOf(t)!;
    return { name, up: enter.up, inclusive: enter.inclusive, enter: enter.value, clear: (enter.up ? t.clearBelow : t.clearAbove) ?? enter.value, severity };
  };
  const levels = c.levels ? c.levels.map((l) => levelOf(l, l.name, l.severity)) : [levelOf(c)];
  return {
    kind: 'metric',
    metric: c.metric,
    device: c.device,
    levels,
    forMs: c.for ?? 0,
    clearForMs: c.clearFor ?? 0,
    window:
      c.window !== undefined && c.agg !== undefined
        ? { ms: c.window, agg: c.agg, base: c.base, hours: c.hours && { fromMin: minutesOf(c.hours.from), toMin: minutesOf(c.hours.to) } }
        : undefined,
    baseline: c.baseline && { days: c.baseline.days, minDays: c.baseline.minDays, dryAfterMs: c.baseline.dryAfter, rain: c.baseline.rain },
  };
}

export function scopeMatches(rule: CompiledRule, ref: ScopeRef): boolean {
  return scopeCovers(rule.def.scope, ref);
}

/** State is kept per rule and scope instance: one per sensor device, or one per zone for `per: zone`. */
export function instanceKey(ruleId: string, ref: { site: string; zone: string; device?: string }): string {
  return ref.device ? `${ruleId}|${ref.site}/${ref.zone}/${ref.device}` : `${ruleId}|${ref.site}/${ref.zone}`;
}

/** JSON with object keys sorted, so two definitions that differ only in key order compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : (v as unknown),
  );
}
