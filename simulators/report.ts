import type { AlertEvent, Command, DeviceRef, Severity } from '../core/domain.js';
import { offsetMs } from '../core/site-time.js';
import type { ScenarioFacts } from './farm-sim.js';

/**
 * What a scenario made the service do, as a JSON report (`npm run simulate -- --report FILE`): every alert with its
 * rule, zone, levels and when it was raised, acknowledged and cleared; every actuation with its reason and when the
 * actuator acknowledged it; and the alert budget: alerts raised per zone and local day. Collected from the
 * service's own events (the FarmBus), so it is what the service did, not what the simulator meant to happen.
 * Times are epoch ms with an ISO 8601 copy in the site's time zone (which says its offset).
 */
export interface AlertRecord {
  id: string;
  rule: string;
  site: string;
  zone: string;
  device?: string;
  /** The worst severity and level the alert reached. */
  severity: Severity;
  level?: string;
  /** Each level in the order it was reached (escalations and de-escalations), with when. */
  levels: { level: string; ts: number }[];
  value?: number;
  message: string;
  raised: number;
  raisedLocal: string;
  acknowledged?: number;
  cleared?: number;
  clearedLocal?: string;
}

export interface ActuationRecord {
  id: string;
  site: string;
  zone: string;
  device: string;
  /** fan, spray, shutter, pump or valve. */
  type?: string;
  action: Command['action'];
  value?: number;
  reason: string;
  ts: number;
  local: string;
  acked?: number;
}

export interface ZoneDay {
  site: string;
  zone: string;
  /** Local date in the site's zone, YYYY-MM-DD. */
  day: string;
  raised: number;
  rules: string[];
}

export interface ScenarioReport {
  scenario: string;
  description: string;
  seed: number;
  timeZone: string;
  start: number;
  startLocal: string;
  end: number;
  endLocal: string;
  sites: string[];
  alerts: AlertRecord[];
  actuations: ActuationRecord[];
  /** Alerts raised per zone and local day; the `system:` ones (a silent actuator, fail-safe) are faults and left out. */
  budget: { perZoneDay: ZoneDay[]; maxPerZoneDay: number };
  runner: { stalls: number; errors: number; sent: number; rejected: number };
  /** What the scenario did (from the simulation): when its rain stopped, which pipe silted up from when. */
  facts: ScenarioFacts;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** ISO 8601 in a zone, with its offset: 2021-07-25T13:05:00+08:00. */
export function isoInZone(timeZone: string, ts: number): string {
  const off = offsetMs(timeZone, ts);
  const wall = new Date(ts + off).toISOString().slice(0, 19);
  const m = Math.abs(off) / 60_000;
  return `${wall}${off >= 0 ? '+' : '-'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export interface ReportSource {
  on(event: 'alert', l: (e: AlertEvent) => void): unknown;
  on(event: 'command', l: (c: DeviceRef & { command: Command }) => void): unknown;
  on(event: 'actuatorState', l: (s: DeviceRef & { ack?: string; ts: number }) => void): unknown;
}

export interface ReportCollector {
  /** The report so far; `meta` adds what the collector cannot know. */
  report(meta: Omit<ScenarioReport, 'alerts' | 'actuations' | 'budget' | 'startLocal' | 'endLocal'>): ScenarioReport;
}

/** What the collector needs to know about the farm and its rules. */
export interface ReportFarm {
  timeZoneOf(site: string): string;
  /** Where a level stands in its rule's list (mildest first), to tell the worst level an alert reached. */
  levelRank(rule: string, level: string): number;
  actuatorType(device: string): string | undefined;
}

/** Listens to the service's bus for alerts, commands and acknowledgements. */
export function collectReport(bus: ReportSource, { timeZoneOf, levelRank, actuatorType }: ReportFarm): ReportCollector {
  const alerts = new Map<string, AlertRecord>();
  const actuations = new Map<string, ActuationRecord>();
  bus.on('alert', (e) => {
    const tz = timeZoneOf(e.site);
    let a = alerts.get(e.id);
    if (!a) {
      a = {
        id: e.id,
        rule: e.rule,
        site: e.site,
        zone: e.zone,
        device: e.device,
        severity: e.severity,
        level: e.level ?? undefined,
        levels: [],
        value: e.value ?? undefined,
        message: e.message,
        raised: e.ts,
        raisedLocal: isoInZone(tz, e.ts),
      };
      alerts.set(e.id, a);
    }
    const rec = a;
    if (SEVERITY_RANK[e.severity] > SEVERITY_RANK[rec.severity]) rec.severity = e.severity;
    if (e.level && e.state !== 'cleared' && rec.levels.at(-1)?.level !== e.level) {
      rec.levels.push({ level: e.level, ts: e.ts });
      if (rec.level === undefined || levelRank(e.rule, e.level) > levelRank(e.rule, rec.level)) rec.level = e.level;
    }
    if (e.state === 'acknowledged') rec.acknowledged ??= e.ts;
    if (e.state === 'cleared') Object.assign(rec, { cleared: e.ts, clearedLocal: isoInZone(tz, e.ts) });
  });
  bus.on('command', (c) => {
    if (actuations.has(c.command.id)) return; // a retry repeats the id
    const { id, action, value, reason, ts } = c.command;
    actuations.set(id, {
      id,
      site: c.site,
      zone: c.zone,
      device: c.device,
      type: actuatorType(c.device),
      action,
      value,
      reason,
      ts,
      local: isoInZone(timeZoneOf(c.site), ts),
    });
  });
  bus.on('actuatorState', (s) => {
    const a = s.ack ? actuations.get(s.ack) : undefined;
    if (a && a.acked === undefined) a.acked = s.ts;
  });
  return {
    report(meta) {
      const list = [...alerts.values()].sort((x, y) => x.raised - y.raised);
      const perZoneDay = budgetOf(list, timeZoneOf);
      return {
        ...meta,
        startLocal: isoInZone(meta.timeZone, meta.start),
        endLocal: isoInZone(meta.timeZone, meta.end),
        alerts: list,
        actuations: [...actuations.values()].sort((x, y) => x.ts - y.ts),
        budget: { perZoneDay, maxPerZoneDay: Math.max(0, ...perZoneDay.map((d) => d.raised)) },
      };
    },
  };
}

function budgetOf(alerts: AlertRecord[], timeZoneOf: (site: string) => string): ZoneDay[] {
  const days = new Map<string, ZoneDay>();
  for (const a of alerts) {
    if (a.rule.startsWith('system:')) continue;
    const day = isoInZone(timeZoneOf(a.site), a.raised).slice(0, 10);
    const key = `${a.site}/${a.zone}/${day}`;
    const d = days.get(key) ?? { site: a.site, zone: a.zone, day, raised: 0, rules: [] };
    d.raised++;
    if (!d.rules.includes(a.rule)) d.rules.push(a.rule);
    days.set(key, d);
  }
  return [...days.values()].sort((x, y) => (x.day < y.day ? -1 : x.day > y.day ? 1 : x.zone < y.zone ? -1 : 1));
}
