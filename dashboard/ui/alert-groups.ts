import type { AlertT } from '../schemas.js';

/**
 * A storm raises dozens of alerts: one per pipe over a grade, one per rain window per gauge. On screen they are
 * grouped, so the wall shows "12 pipes red" and each gauge's worst rain window, not a wall of near-identical rows:
 * - a gauge's rain-window alerts (metric rain_mm: 1 h, 3 h, 6 h, 12 h, 24 h) fold under its worst one;
 * - the rest group by site, rule and grade;
 * - groups with something unacknowledged come first, then by severity and grade.
 * Pure: the page renders the groups (alert-strip.ts, views/alerts.ts).
 */
export interface AlertGroup {
  key: string;
  site: string;
  rule: string;
  level: string | null;
  severity: AlertT['severity'];
  /** The group's alerts, worst first (each gauge's worst rain window only). */
  alerts: AlertT[];
  /** Rain windows folded under a gauge's worst one (shown when the group is opened). */
  folded: AlertT[];
  unacked: number;
  /** The newest raise in the group. */
  raisedAt: number;
  /** Storm and dead-actuator alerts: never pushed off the wall by others of the same severity. */
  urgent: boolean;
}

const SEVERITY_RANK: Record<AlertT['severity'], number> = { critical: 3, warning: 2, info: 1 };
/** Grades of the rules in this product: drainage and rain colours, THI bands, GB/T 28592 rainfall grades. */
const LEVEL_RANK: Record<string, number> = { blue: 1, yellow: 2, orange: 3, red: 4, moderate: 1, severe: 2, extreme: 3 };

export const raisedAt = (a: Pick<AlertT, 'ts' | 'raisedAt'>): number => a.raisedAt ?? a.ts;
export const isAcked = (a: Pick<AlertT, 'state'>): boolean => a.state === 'acknowledged';
export const isRain = (a: Pick<AlertT, 'metric'>): boolean => a.metric === 'rain_mm';
export const isNotResponding = (a: Pick<AlertT, 'rule'>): boolean => a.rule === 'system:actuator';

export function levelRank(level: string | null | undefined): number {
  return level ? (LEVEL_RANK[level] ?? 0) : 0;
}

/** Worse first: severity, then grade, then the larger value (a 3 h window at 120 mm over a 1 h one at 60). */
export function worse(a: AlertT, b: AlertT): number {
  return (
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    levelRank(b.level) - levelRank(a.level) ||
    (b.value ?? 0) - (a.value ?? 0) ||
    raisedAt(b) - raisedAt(a)
  );
}

function foldRain(alerts: readonly AlertT[]): { shown: AlertT[]; folded: Map<string, AlertT[]> } {
  const byGauge = new Map<string, AlertT[]>();
  const shown: AlertT[] = [];
  for (const a of alerts) {
    if (!isRain(a)) shown.push(a);
    else {
      const key = `${a.site}/${a.device ?? a.zone}`;
      byGauge.set(key, [...(byGauge.get(key) ?? []), a]);
    }
  }
  const folded = new Map<string, AlertT[]>();
  for (const list of byGauge.values()) {
    const [worst, ...rest] = [...list].sort(worse);
    shown.push(worst);
    folded.set(worst.id, rest);
  }
  return { shown, folded };
}

export function groupAlerts(alerts: readonly AlertT[]): AlertGroup[] {
  const { shown, folded } = foldRain(alerts);
  const groups = new Map<string, AlertGroup>();
  for (const a of shown) {
    const key = `${a.site}|${a.rule}|${a.level ?? ''}`;
    let g = groups.get(key);
    if (!g)
      groups.set(
        key,
        (g = { key, site: a.site, rule: a.rule, level: a.level, severity: a.severity, alerts: [], folded: [], unacked: 0, raisedAt: 0, urgent: false }),
      );
    g.alerts.push(a);
    g.folded.push(...(folded.get(a.id) ?? []));
    if (!isAcked(a)) g.unacked++;
    if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[g.severity]) g.severity = a.severity;
    g.raisedAt = Math.max(g.raisedAt, raisedAt(a));
    g.urgent ||= isRain(a) || isNotResponding(a);
  }
  for (const g of groups.values()) g.alerts.sort(worse);
  return [...groups.values()].sort(compareGroups);
}

/** Unacknowledged first; then severity, grade, the storm and dead actuators before the rest, more before fewer. */
export function compareGroups(a: AlertGroup, b: AlertGroup): number {
  return (
    Number(b.unacked > 0) - Number(a.unacked > 0) ||
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    Number(b.urgent) - Number(a.urgent) ||
    levelRank(b.level) - levelRank(a.level) ||
    b.alerts.length - a.alerts.length ||
    b.raisedAt - a.raisedAt
  );
}

/**
 * What the wall strip shows in `slots` places: groups with something unacknowledged (acknowledged ones give up their
 * place and are only counted). When there are more than places, storm and dead-actuator groups are kept and the
 * others give way, least severe first, so the rainstorm and "not responding" alerts are never the ones left out.
 */
export function stripGroups(groups: readonly AlertGroup[], slots: number): { shown: AlertGroup[]; more: number; acknowledged: number } {
  const open = groups.filter((g) => g.unacked > 0);
  const acknowledged = groups.filter((g) => g.unacked === 0).reduce((n, g) => n + g.alerts.length + g.folded.length, 0);
  if (open.length <= slots) return { shown: open, more: 0, acknowledged };
  const urgent = open.filter((g) => g.urgent);
  const keep = new Set(urgent.slice(0, slots));
  for (const g of open) if (keep.size < slots) keep.add(g);
  const shown = open.filter((g) => keep.has(g));
  const more = open.filter((g) => !keep.has(g)).reduce((n, g) => n + g.alerts.length, 0);
  return { shown, more, acknowledged };
}

/** Alert filters of the alerts page (all optional). */
export interface AlertFilter {
  site?: string;
  severity?: AlertT['severity'];
  state?: 'open' | 'acknowledged';
  text?: string;
}

export function filterAlerts(alerts: readonly AlertT[], f: AlertFilter, textOf: (a: AlertT) => string): AlertT[] {
  const q = f.text?.trim().toLowerCase();
  return alerts.filter(
    (a) =>
      (!f.site || a.site === f.site) &&
      (!f.severity || a.severity === f.severity) &&
      (!f.state || (f.state === 'acknowledged') === isAcked(a)) &&
      (!q || textOf(a).toLowerCase().includes(q) || a.rule.includes(q) || (a.device ?? '').includes(q) || a.zone.includes(q)),
  );
}
