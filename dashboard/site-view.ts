import type { AlertEvent, Severity } from '../core/domain.js';
import type { FarmIndex, IndexedDevice, IndexedZone } from '../core/farm-index.js';
import type { FarmConfigT } from '../core/config/schema.js';
import type { DevicePresence } from '../ingest/handle.js';
import type { ActuatorView } from '../rules/handle.js';
import type { ConditionT, MetricConditionT, RuleT } from '../rules/schema.js';
import { scopeCoversZone } from '../rules/scope.js';
import type { LatestValue } from '../store/store.js';
import type { ActuatorInfoT, DeviceViewT, SiteViewT, ZoneViewT } from './schemas.js';

/**
 * Pure assembly of what the page shows for a site: the farm file's structure joined with presence (ingest),
 * latest values (store), actuator state (rules) and active alerts. Devices are copied field by field, so a
 * device secret or password hash can never leak into an answer.
 */
const SEVERITY_RANK: Record<Severity, number> = { info: 1, warning: 2, critical: 3 };

export function worstSeverity(alerts: readonly Pick<AlertEvent, 'severity'>[]): Severity | undefined {
  let worst: Severity | undefined;
  for (const a of alerts) if (!worst || SEVERITY_RANK[a.severity] > SEVERITY_RANK[worst]) worst = a.severity;
  return worst;
}

export function metricConditions(condition: ConditionT): MetricConditionT[] {
  if ('all' in condition) return condition.all.flatMap(metricConditions);
  if ('any' in condition) return condition.any.flatMap(metricConditions);
  if ('metric' in condition) return [condition];
  return [];
}

/** Grades of pipe fill when no rule defines them (SPEC example: above 50 yellow, 70 orange, 85 red). */
export const DEFAULT_FILL_LEVELS = [
  { name: 'yellow', above: 50 },
  { name: 'orange', above: 70 },
  { name: 'red', above: 85 },
];

/**
 * Fill thresholds for a drain zone, taken from the first enabled rule with graded `levels` on `fill` (plain
 * numbers, above or atLeast) that covers it.
 */
export function fillLevels(
  rules: readonly RuleT[],
  zone: Pick<IndexedZone, 'site' | 'zone' | 'kind'> & { devices: readonly { device: string }[]; config?: Pick<IndexedZone['config'], 'attributes'> },
): { name: string; above: number }[] {
  for (const rule of rules) {
    if (rule.enabled === false || !scopeCoversZone(rule.scope ?? {}, zone)) continue;
    for (const c of metricConditions(rule.when)) {
      if (c.metric !== 'fill' || !c.levels) continue;
      const levels = c.levels.flatMap((l) => {
        const t = l.above ?? l.atLeast;
        return typeof t === 'number' ? [{ name: l.name, above: t }] : [];
      });
      if (levels.length > 0) return levels.sort((a, b) => a.above - b.above);
    }
  }
  return DEFAULT_FILL_LEVELS;
}

/** The colour grade of a fill value: `blue` below the first level (SPEC "blue / yellow / orange / red"). */
export function fillGrade(fill: number | undefined, levels: readonly { name: string; above: number }[]): string {
  let grade = 'blue';
  if (fill === undefined) return grade;
  for (const level of levels) if (fill > level.above) grade = level.name;
  return grade;
}

export interface SiteViewInputs {
  config: FarmConfigT;
  farm: FarmIndex;
  rules: readonly RuleT[];
  presence: readonly DevicePresence[];
  latest: readonly LatestValue[];
  actuators: readonly ActuatorView[];
  activeAlerts: readonly AlertEvent[];
  /** How often each device reports (report-intervals.ts), when known. */
  reportEveryMs?: (device: string) => number | undefined;
  /** Live head counts per zone (animals/herd.ts). */
  headCounts?: readonly { site: string; zone: string; headCount: number; out: number; unknown: number }[];
}

function actuatorInfo(view: ActuatorView | undefined): ActuatorInfoT {
  if (!view) return { mode: 'auto', holders: [] };
  const { mode, manualUntil, state, value, stateTs, pending, holders } = view;
  return { mode, manualUntil, state, value, stateTs, pending, holders: holders.map((h) => ({ ...h })) };
}

function deviceView(
  device: IndexedDevice,
  inputs: {
    presence: Map<string, DevicePresence>;
    latest: Map<string, LatestValue[]>;
    actuators: Map<string, ActuatorView>;
    reportEveryMs: (device: string) => number | undefined;
  },
): DeviceViewT {
  const presence = inputs.presence.get(device.device);
  const latest: DeviceViewT['latest'] = {};
  for (const v of inputs.latest.get(device.device) ?? []) latest[v.metric] = { value: v.value, ts: v.ts };
  return {
    id: device.device,
    name: device.config.name,
    role: device.role,
    type: device.type,
    at: device.at,
    metrics: device.config.metrics ? [...device.config.metrics] : undefined,
    status: presence?.status ?? 'unknown',
    statusTs: presence?.statusTs,
    lastSeen: presence?.lastSeen,
    reportEveryMs: inputs.reportEveryMs(device.device),
    latest,
    actuator: device.role === 'actuator' ? actuatorInfo(inputs.actuators.get(device.device)) : undefined,
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

/** Sheds always carry their head count (0 before any gate read); other zones only while animals are in or out of them. */
function headOf(h: { headCount: number; out: number; unknown: number } | undefined, kind: string): Pick<ZoneViewT, 'headCount' | 'animalsOut' | 'unknownTags'> {
  if (kind !== 'shed' && !(h && (h.headCount > 0 || h.out > 0))) return {};
  return { headCount: h?.headCount ?? 0, animalsOut: h?.out ?? 0, unknownTags: h?.unknown ?? 0 };
}

export function buildSiteViews(inputs: SiteViewInputs, onlySite?: string): SiteViewT[] {
  const lookups = {
    presence: new Map(inputs.presence.map((p) => [p.device, p])),
    latest: groupBy(inputs.latest, (v) => v.device),
    actuators: new Map(inputs.actuators.map((a) => [a.device, a])),
    reportEveryMs: inputs.reportEveryMs ?? (() => undefined),
  };
  const heads = new Map((inputs.headCounts ?? []).map((h) => [`${h.site}/${h.zone}`, h]));
  const alertsBySite = groupBy(inputs.activeAlerts, (a) => a.site);
  return inputs.config.sites
    .filter((site) => !onlySite || site.id === onlySite)
    .map((site) => {
      const zones: ZoneViewT[] = site.zones.map((zoneConfig) => {
        const zone = inputs.farm.zone(site.id, zoneConfig.id)!;
        return {
          id: zone.zone,
          name: zoneConfig.name,
          kind: zone.kind,
          attributes: zoneConfig.attributes ? { ...zoneConfig.attributes } : undefined,
          fillLevels: zone.kind === 'drain' ? fillLevels(inputs.rules, zone) : undefined,
          ...headOf(heads.get(`${site.id}/${zone.zone}`), zone.kind),
          devices: zone.devices.map((d) => deviceView(d, lookups)),
        };
      });
      const alerts = (alertsBySite.get(site.id) ?? []).filter((a) => a.state !== 'cleared');
      return {
        id: site.id,
        name: site.name,
        timeZone: inputs.farm.timeZone(site.id),
        language: site.language,
        operatorHoldMs: inputs.config.operatorHold,
        activeAlerts: alerts.length,
        worstSeverity: worstSeverity(alerts),
        zones,
      };
    });
}
