import type { Reading } from '../core/domain.js';
import type { FarmIndex } from '../core/farm-index.js';
import { instanceKey, scopeMatches, type CompiledRule, type ScopeRef } from './compile.js';
import { createRuleState, type RuleState } from './evaluate.js';
import { attributesMatch } from './scope.js';
import { resolveLeaves, zoneValues, type LeafSpec } from './zone-values.js';

/**
 * The live rule instances and the index that sends a reading only to the rules that can use it: per
 * zone, rules by metric (plus rules with stale conditions, which any reading resets), and rules that pin
 * a condition to a device. Shared by the engine, restart recovery and dry runs.
 */
export interface InstanceSet {
  rule(id: string): CompiledRule | undefined;
  rules(): CompiledRule[];
  /** Installs a rule and creates an instance for every sensor (or zone) its scope covers. */
  add(rule: CompiledRule, now: number): RuleState[];
  /** Uninstalls a rule and hands back its instances (to release what they hold). */
  remove(id: string): RuleState[];
  statesOf(id: string): RuleState[];
  /** The instances a reading must visit, created on first sight for devices the farm index does not know. */
  route(reading: Reading, now: number): RuleState[];
  /** Instances that need ticks (timers, windows, staleness, schedules). */
  timed(): Iterable<RuleState>;
  /** Puts a prepared state in place of the instance with the same key (restart recovery). */
  replace(state: RuleState): void;
  /** Zones a rule's scope covers where its thresholds cannot be made (a zone value missing, levels out of order). */
  problems(id: string): { site: string; zone: string; problem: string }[];
  /** Instances with actuator conditions (fed the actuators' state reports). */
  watchingActuators(): Iterable<RuleState>;
}

/** When a device last reported; undefined device: any sensor of the zone. */
export type LastSeen = (site: string, zone: string, device?: string) => number | undefined;

interface ZoneRoutes {
  byMetric: Map<string, CompiledRule[]>;
  anyReading: CompiledRule[];
  /** Rules for one set of metric names, deduplicated: a device nearly always sends the same set. */
  byMetricSet: Map<string, CompiledRule[]>;
}

export function createInstanceSet(farm: FarmIndex, lastSeen: LastSeen): InstanceSet {
  const rules = new Map<string, CompiledRule>();
  const states = new Map<string, Map<string, RuleState>>();
  // The same instances by scope ("site/zone/device" or "site/zone") then rule id: a reading builds its
  // scope key once and finds each rule's instance by the rule id, whose hash V8 has cached.
  const byScope = new Map<string, Map<string, RuleState>>();
  let zoneRoutes = new Map<string, ZoneRoutes>();
  let byPinned = new Map<string, CompiledRule[]>();
  // A rule's thresholds in each zone (zone values filled in), or undefined where the rule does not apply.
  let specsByZone = new Map<string, LeafSpec[] | undefined>();
  let refused = new Map<string, { site: string; zone: string; problem: string }[]>();

  /**
   * Whether a rule applies in a zone beyond site / zone / kind: the zone has the attributes `scope.attributes`
   * names and every zone value its thresholds name (a zone the farm file does not have has none).
   */
  function zoneSpecs(r: CompiledRule, site: string, zone: string): LeafSpec[] | undefined {
    const key = `${r.id}|${site}/${zone}`;
    if (specsByZone.has(key)) return specsByZone.get(key);
    const z = farm.zone(site, zone);
    let specs: LeafSpec[] | undefined;
    if (attributesMatch(r.def.scope.attributes, z?.config.attributes) && (z || (!r.def.scope.attributes && r.zoneRefs.length === 0))) {
      const resolved = resolveLeaves(r, z ? zoneValues(z.kind, z.config.attributes) : {});
      if ('specs' in resolved) specs = resolved.specs;
      else refused.set(r.id, [...(refused.get(r.id) ?? []), { site, zone, problem: resolved.problem }]);
    }
    specsByZone.set(key, specs);
    return specs;
  }
  // The instances a device's readings visit, kept per device while nothing changes (`version`): a device sends the
  // same metrics each time, and working the route out again was a tenth of the event loop at full load (issue 18).
  let version = 0;
  const routeCache = new Map<string, { site: string; zone: string; kind: string; names: string[]; states: RuleState[]; version: number }>();
  const ROUTES_KEPT = 100_000;

  /** A rule whose every condition reads one named device (a site rain gauge) has that one instance. */
  const pinnedOnly = (r: CompiledRule) => r.pinned.length === 1 && r.leaves.every((l) => l.device !== undefined);

  function reindex(): void {
    version++;
    zoneRoutes = new Map();
    byPinned = new Map();
    specsByZone = new Map();
    refused = new Map();
    for (const r of rules.values()) for (const d of r.pinned) byPinned.set(d, [...(byPinned.get(d) ?? []), r]);
  }

  function routesFor(site: string, zone: string, kind: ScopeRef['kind']): ZoneRoutes {
    const key = `${site}/${zone}`;
    let z = zoneRoutes.get(key);
    if (z) return z;
    z = { byMetric: new Map(), anyReading: [], byMetricSet: new Map() };
    for (const r of rules.values()) {
      if (pinnedOnly(r) || !scopeMatches(r, { site, zone, kind }) || !zoneSpecs(r, site, zone)) continue;
      for (const m of r.metrics) z.byMetric.set(m, [...(z.byMetric.get(m) ?? []), r]);
      if (r.hasStale) z.anyReading.push(r);
    }
    zoneRoutes.set(key, z);
    return z;
  }

  function refFor(r: CompiledRule, ref: ScopeRef): ScopeRef {
    return r.def.per === 'zone' ? { site: ref.site, zone: ref.zone, kind: ref.kind } : { site: ref.site, zone: ref.zone, kind: ref.kind, device: ref.device };
  }

  const scopeKey = (ref: { site: string; zone: string; device?: string }) => (ref.device ? `${ref.site}/${ref.zone}/${ref.device}` : `${ref.site}/${ref.zone}`);

  function ensure(r: CompiledRule, ref: ScopeRef, now: number): RuleState {
    const key = instanceKey(r.id, ref);
    let m = states.get(r.id);
    if (!m) states.set(r.id, (m = new Map<string, RuleState>()));
    let st = m.get(key);
    if (!st) {
      st = createRuleState(r, ref, key, now, (device) => lastSeen(ref.site, ref.zone, device), farm.timeZone(ref.site), zoneSpecs(r, ref.site, ref.zone));
      m.set(key, st);
      index(st);
    }
    return st;
  }

  function index(st: RuleState): void {
    version++;
    const sk = scopeKey(st);
    let m = byScope.get(sk);
    if (!m) byScope.set(sk, (m = new Map<string, RuleState>()));
    m.set(st.rule.id, st);
  }

  function rulesFor(z: ZoneRoutes, metrics: Record<string, number>): CompiledRule[] {
    const names = Object.keys(metrics);
    const sig = names.join(',');
    let list = z.byMetricSet.get(sig);
    if (list) return list;
    const seen = new Set<CompiledRule>();
    for (const name of names) for (const r of z.byMetric.get(name) ?? []) seen.add(r);
    for (const r of z.anyReading) seen.add(r);
    list = [...seen];
    if (z.byMetricSet.size < 64) z.byMetricSet.set(sig, list); // bounded: odd devices must not grow it forever
    return list;
  }

  function routeOf(reading: Reading, now: number): RuleState[] {
    const out: RuleState[] = [];
    const z = routesFor(reading.site, reading.zone, reading.kind);
    const ofDevice = byScope.get(scopeKey(reading));
    const ofZone = byScope.get(`${reading.site}/${reading.zone}`);
    for (const r of rulesFor(z, reading.metrics)) {
      const perZone = r.def.per === 'zone';
      if (!perZone && r.def.scope.device && r.def.scope.device !== reading.device) continue;
      out.push((perZone ? ofZone : ofDevice)?.get(r.id) ?? ensure(r, refFor(r, reading), now));
    }
    const pinned = byPinned.get(reading.device);
    if (pinned) {
      const already = new Set(out);
      for (const r of pinned) {
        if (pinnedOnly(r) && !states.get(r.id)?.size && zoneSpecs(r, reading.site, reading.zone))
          ensure(r, { site: reading.site, zone: reading.zone, kind: reading.kind, device: reading.device }, now);
        for (const st of states.get(r.id)?.values() ?? []) if (!already.has(st)) out.push(st);
      }
    }
    return out;
  }

  /** The reading carries the same metric names, in the same order, as `names`. */
  function sameNames(names: string[], metrics: Record<string, number>): boolean {
    let i = 0;
    for (const name in metrics) if (names[i++] !== name) return false;
    return i === names.length;
  }

  function scopeRefs(r: CompiledRule): ScopeRef[] {
    if (pinnedOnly(r)) {
      const d = farm.device(r.pinned[0]);
      return d && zoneSpecs(r, d.site, d.zone) ? [{ site: d.site, zone: d.zone, kind: d.kind, device: d.device }] : [];
    }
    if (r.def.per === 'zone') {
      return farm
        .zones()
        .filter(
          (z) =>
            scopeMatches(r, { site: z.site, zone: z.zone, kind: z.kind }) &&
            (!r.def.scope.device || z.devices.some((d) => d.device === r.def.scope.device)) &&
            zoneSpecs(r, z.site, z.zone),
        )
        .map((z) => ({ site: z.site, zone: z.zone, kind: z.kind }));
    }
    return farm
      .devices()
      .filter((d) => d.role === 'sensor' && scopeMatches(r, d) && zoneSpecs(r, d.site, d.zone))
      .map((d) => ({ site: d.site, zone: d.zone, kind: d.kind, device: d.device }));
  }

  return {
    rule: (id) => rules.get(id),
    rules: () => [...rules.values()],
    add(r, now) {
      rules.set(r.id, r);
      reindex();
      return scopeRefs(r).map((ref) => ensure(r, ref, now));
    },
    remove(id) {
      version++;
      const gone = [...(states.get(id)?.values() ?? [])];
      for (const st of gone) byScope.get(scopeKey(st))?.delete(id);
      rules.delete(id);
      states.delete(id);
      reindex();
      return gone;
    },
    statesOf: (id) => [...(states.get(id)?.values() ?? [])],
    route(reading, now) {
      const cached = routeCache.get(reading.device);
      if (
        cached &&
        cached.version === version &&
        cached.site === reading.site &&
        cached.zone === reading.zone &&
        cached.kind === reading.kind &&
        sameNames(cached.names, reading.metrics)
      )
        return cached.states;
      const out = routeOf(reading, now);
      if (routeCache.size >= ROUTES_KEPT) routeCache.clear();
      routeCache.set(reading.device, { site: reading.site, zone: reading.zone, kind: reading.kind, names: Object.keys(reading.metrics), states: out, version });
      return out;
    },
    *timed() {
      for (const [id, m] of states) if (rules.get(id)?.timed) yield* m.values();
    },
    problems(id) {
      const r = rules.get(id);
      if (r) for (const z of farm.zones()) if (scopeMatches(r, { site: z.site, zone: z.zone, kind: z.kind })) zoneSpecs(r, z.site, z.zone);
      return refused.get(id) ?? [];
    },
    *watchingActuators() {
      for (const [id, m] of states) if (rules.get(id)?.hasActuator) yield* m.values();
    },
    replace(st) {
      let m = states.get(st.rule.id);
      if (!m) states.set(st.rule.id, (m = new Map<string, RuleState>()));
      m.set(st.key, st);
      index(st);
    },
  };
}
