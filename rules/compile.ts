import type { Severity, ZoneKind } from '../core/domain.js';
import type { Agg } from './window.js';
import type { ConditionT, RuleT } from './schema.js';
import { scopeCovers, type ScopeRef } from './scope.js';

/**
 * A rule turned into what the evaluator runs: the condition tree flattened into leaves (each with its
 * own timers and window) and a tree of leaf indices, thresholds normalised into levels.
 */
export interface LevelSpec {
  name?: string;
  /** true: crossed when value > enter; false: when value < enter. */
  up: boolean;
  enter: number;
  /** Held while the value has not passed this (hysteresis); equals enter when none is given. */
  clear: number;
  severity?: Severity;
}

export interface MetricLeaf {
  kind: 'metric';
  metric: string;
  device?: string;
  levels: LevelSpec[];
  forMs: number;
  clearForMs: number;
  window?: { ms: number; agg: Agg };
}

export interface StaleLeaf {
  kind: 'stale';
  staleMs: number;
  device?: string;
}

export type Leaf = MetricLeaf | StaleLeaf;
export type CondNode = { leaf: number } | { all: CondNode[] } | { any: CondNode[] };

export interface CompiledRule {
  id: string;
  def: RuleT;
  /** Canonical JSON of the definition: equal JSON = unchanged rule, whose state survives a replace. */
  json: string;
  leaves: Leaf[];
  tree: CondNode;
  metrics: string[];
  /** Devices named by a condition (`device:`), read whichever instance is evaluated. */
  pinned: string[];
  hasStale: boolean;
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
    leaves.push('stale' in c ? { kind: 'stale', staleMs: c.stale, device: c.device } : metricLeaf(c));
    return { leaf: leaves.length - 1 };
  };
  const tree = walk(def.when);
  const metricLeaves = leaves.filter((l): l is MetricLeaf => l.kind === 'metric');
  const levelLeaf = leaves.findIndex((l) => l.kind === 'metric' && l.levels[0].name !== undefined);
  const firstMetric = leaves.findIndex((l) => l.kind === 'metric');
  const historyMs = Math.max(0, ...metricLeaves.map((l) => l.forMs + (l.window?.ms ?? 0) + l.clearForMs));
  return {
    id: def.id,
    def,
    json: canonicalJson(def),
    leaves,
    tree,
    metrics: [...new Set(metricLeaves.map((l) => l.metric))],
    pinned: [...new Set(leaves.map((l) => l.device).filter((d): d is string => d !== undefined))],
    hasStale: leaves.some((l) => l.kind === 'stale'),
    levelLeaf,
    primaryLeaf: levelLeaf >= 0 ? levelLeaf : Math.max(0, firstMetric),
    historyMs,
    timed: def.schedule !== undefined || leaves.some((l) => l.kind === 'stale' || l.forMs > 0 || l.clearForMs > 0 || l.window !== undefined),
  };
}

function metricLeaf(c: Extract<ConditionT, { metric: string }>): MetricLeaf {
  let levels: LevelSpec[];
  if (c.levels) {
    levels = c.levels.map((l) =>
      l.above !== undefined
        ? { name: l.name, up: true, enter: l.above, clear: l.clearBelow ?? l.above, severity: l.severity }
        : { name: l.name, up: false, enter: l.below!, clear: l.clearAbove ?? l.below!, severity: l.severity },
    );
  } else if (c.above !== undefined) {
    levels = [{ up: true, enter: c.above, clear: c.clearBelow ?? c.above }];
  } else {
    levels = [{ up: false, enter: c.below!, clear: c.clearAbove ?? c.below! }];
  }
  return {
    kind: 'metric',
    metric: c.metric,
    device: c.device,
    levels,
    forMs: c.for ?? 0,
    clearForMs: c.clearFor ?? 0,
    window: c.window !== undefined && c.agg !== undefined ? { ms: c.window, agg: c.agg } : undefined,
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
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}
