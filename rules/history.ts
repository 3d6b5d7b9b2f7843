import { rawPages } from '../store/pages.js';
import type { Reading } from '../core/domain.js';
import type { RawPoint, RawQuery, Store } from '../store/store.js';
import type { CompiledRule } from './compile.js';
import { DERIVED_FROM, withDerivedMetrics } from './derived.js';
import { evaluate, type RuleEffect, type RuleState } from './evaluate.js';
import type { InstanceSet } from './instances.js';

/** Stored history turned back into readings, and replayed through the evaluator (restart recovery, dry runs). */

const PAGE = 50_000;

/** All points of a raw query, paged by time: the store caps one answer (DEFAULT_RAW_LIMIT). */
export async function rawAll(store: Store, q: RawQuery): Promise<RawPoint[]> {
  const out: RawPoint[] = [];
  for await (const page of rawPages(store, q, PAGE)) out.push(...page);
  return out;
}

/** Metrics to fetch for a rule: derived ones (thi, dew_point, wet_bulb) need their inputs fetched too. */
export function storedMetrics(metrics: string[]): string[] {
  return [...new Set(metrics.flatMap((m) => [m, ...(DERIVED_FROM[m] ?? [])]))];
}

/** Queries that cover what one rule reads between from and to (the rule's scope, its pinned devices). */
export function ruleQueries(rule: CompiledRule, from: number, to: number): RawQuery[] {
  const s = rule.def.scope;
  const scoped = { site: s.site, zone: s.zone, device: rule.def.per === 'device' ? s.device : undefined, from, to };
  const queries: RawQuery[] = [];
  for (const leaf of rule.leaves) {
    if (leaf.kind === 'stale') queries.push(leaf.device ? { device: leaf.device, from, to } : scoped);
    else if (leaf.kind === 'actuator') continue;
    else {
      for (const gauge of leaf.baseline?.rain ?? []) queries.push({ device: gauge, metric: 'rain_mm', from, to });
      for (const metric of storedMetrics([leaf.metric])) queries.push(leaf.device ? { device: leaf.device, metric, from, to } : { ...scoped, metric });
    }
  }
  // Two leaves on the same metric and scope need the data once.
  return [...new Map(queries.map((q) => [JSON.stringify(q), q])).values()];
}

/** Points (possibly overlapping between queries) grouped back into readings per device and instant, oldest first. */
export function pointsToReadings(points: Iterable<RawPoint>): Reading[] {
  const byKey = new Map<string, Reading>();
  for (const p of points) {
    const key = `${p.device}|${p.ts}`;
    let r = byKey.get(key);
    if (!r) byKey.set(key, (r = { site: p.site, zone: p.zone, kind: p.kind, device: p.device, ts: p.ts, metrics: {} }));
    r.metrics[p.metric] = p.value;
  }
  return [...byKey.values()].sort((a, b) => a.ts - b.ts).map(withDerivedMetrics);
}

export interface ReplayOptions {
  set: InstanceSet;
  readings: Reading[];
  from: number;
  to: number;
  /** Ticks between readings, so `for` timers, windows and staleness move on as they would have live. */
  stepMs: number;
  onEffect?(state: RuleState, effect: RuleEffect): void;
}

/** Runs readings and ticks through the pure evaluator with time taken from the data. Returns the instances that saw data. */
export function replay(o: ReplayOptions): Set<RuleState> {
  const saw = new Set<RuleState>();
  const tickAll = (t: number) => {
    for (const st of o.set.timed()) for (const e of evaluate(st, { type: 'tick' }, t).effects) o.onEffect?.(st, e);
  };
  let next = o.from + o.stepMs;
  for (const r of o.readings) {
    if (r.ts < o.from || r.ts > o.to) continue;
    for (; next <= r.ts; next += o.stepMs) tickAll(next);
    for (const st of o.set.route(r, r.ts)) {
      saw.add(st);
      for (const e of evaluate(st, { type: 'reading', reading: r }, r.ts).effects) o.onEffect?.(st, e);
    }
  }
  for (; next < o.to; next += o.stepMs) tickAll(next);
  tickAll(o.to);
  return saw;
}
