import type { Reading } from '../../core/domain.js';
import { startOfLocalDay, startOfNextLocalDay } from '../../core/site-time.js';
import type { RuleT } from '../../rules/schema.js';
import { createGapTracker } from '../report-gaps.js';
import type { LiveActuator, LiveAlert, LiveCommand, LiveCommandOutcome, LiveDevices, LiveHeadCounts } from '../live-events.js';
import type { AlertT, DeviceViewT, DrainageResponseT, MeT, SilenceT, SiteViewT, ZoneViewT } from '../schemas.js';

/**
 * What the page knows: the sites as the API answered them, kept current by live events. Views render from it
 * and subscribe to changes; nothing here touches the DOM.
 */
export type ConnState = 'connecting' | 'connected' | 'disconnected';
export type Change =
  | { kind: 'readings'; devices: string[] }
  | { kind: 'heads'; zones: string[] }
  | { kind: 'device' | 'actuator'; device: string }
  | { kind: 'alert'; alert: AlertT }
  | { kind: 'sites' | 'alerts' | 'conn' | 'drainage' | 'rules' | 'silences' };

/**
 * What the page says about an actuator's last command: still waiting for its ack (try `attempt` of `attempts`),
 * or given up on after the last try (the actuator is not responding).
 */
export type CommandFeedback =
  { kind: 'waiting'; command: string; attempt: number; attempts: number } | { kind: 'failed'; command: string; attempts: number; ts: number };

export interface DeviceEntry {
  site: SiteViewT;
  zone: ZoneViewT;
  device: DeviceViewT;
}

export const model = {
  me: null as MeT | null,
  sites: [] as SiteViewT[],
  activeAlerts: new Map<string, AlertT>(),
  drainage: new Map<string, DrainageResponseT>(),
  /** Active silences (GET /api/silences): alerts they match are marked silenced wherever they are shown. */
  silences: [] as SilenceT[],
  conn: 'connecting' as ConnState,
  /** The rules in force (GET /api/rules): alert texts in the reader's language, thresholds on charts. */
  rules: [] as RuleT[],
  /** When the page last heard anything live (any socket.io event): the Live pill shows its age. */
  lastMessageAt: undefined as number | undefined,
  /** The newest reading's own time: "data as of" on the wall. */
  newestReadingTs: undefined as number | undefined,
  feedback: new Map<string, CommandFeedback>(),
};

/** Report intervals learned from the live readings, for devices the server did not know one for. */
const gaps = createGapTracker();
/** Command ids each actuator acknowledged lately: an ack can arrive before the HTTP answer that sent it. */
const acked = new Map<string, string[]>();
const ACKS_KEPT = 8;

/** How often a device reports: what the server says (farm file or learned), else what the page has seen. */
export function reportEveryMs(device: DeviceViewT): number | undefined {
  return device.reportEveryMs ?? gaps.intervalMs(device.id);
}

export function setRules(rules: RuleT[]): void {
  model.rules = rules;
  emit({ kind: 'rules' });
}

function heard(): void {
  model.lastMessageAt = Date.now();
}

const devices = new Map<string, DeviceEntry>();
const listeners = new Set<(change: Change) => void>();

export function subscribe(listener: (change: Change) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(change: Change): void {
  for (const listener of listeners) listener(change);
}

export function canOperate(): boolean {
  return model.me?.role === 'operator' || model.me?.role === 'admin';
}

export function hasRole(role: 'operator' | 'admin'): boolean {
  return role === 'operator' ? canOperate() : model.me?.role === 'admin';
}

function indexSites(sites: SiteViewT[]): void {
  model.sites = sites;
  devices.clear();
  for (const site of sites) for (const zone of site.zones) for (const device of zone.devices) devices.set(device.id, { site, zone, device });
}

export function setSites(sites: SiteViewT[]): void {
  indexSites(sites);
  emit({ kind: 'sites' });
}

/**
 * A fresh snapshot of some sites (just joined) and of the active alerts. A value that arrived live after the
 * snapshot was taken is newer than the snapshot's, so it is kept.
 */
export function applySnapshot(fresh: SiteViewT[], alerts: AlertT[]): void {
  const byId = new Map(fresh.map((s) => [s.id, s]));
  for (const site of fresh)
    for (const zone of site.zones)
      for (const device of zone.devices) {
        const seen = devices.get(device.id)?.device;
        if (!seen) continue;
        for (const [metric, v] of Object.entries(seen.latest)) if (!device.latest[metric] || device.latest[metric].ts < v.ts) device.latest[metric] = v;
      }
  indexSites(model.sites.map((s) => byId.get(s.id) ?? s));
  model.activeAlerts = new Map(alerts.map((a) => [a.id, a]));
  refreshSiteSeverity();
  emit({ kind: 'sites' });
}

export function deviceEntry(id: string): DeviceEntry | undefined {
  return devices.get(id);
}

export function findSite(id: string): SiteViewT | undefined {
  return model.sites.find((s) => s.id === id);
}

export function setConn(conn: ConnState): void {
  model.conn = conn;
  emit({ kind: 'conn' });
}

/** The full list of active alerts (a fresh fetch); `alerts` tells views to repaint their alert lists. */
export function setActiveAlerts(alerts: AlertT[]): void {
  model.activeAlerts = new Map(alerts.map((a) => [a.id, a]));
  refreshSiteSeverity();
  emit({ kind: 'alerts' });
}

/**
 * Rain that arrived live recently. A drainage snapshot can be computed before such a reading and arrive after
 * it: replacing the totals would then drop that rain until the next refresh, so it is added again.
 */
const RECENT_RAIN_MS = 5 * 60_000;
let recentRain: { site: string; device: string; ts: number; mm: number }[] = [];

export function setDrainage(d: DrainageResponseT): void {
  recentRain = recentRain.filter((r) => r.ts >= Date.now() - RECENT_RAIN_MS);
  for (const r of recentRain) if (r.site === d.site && r.ts > d.asOf) addToGauge(d, r.device, r.mm, r.ts);
  model.drainage.set(d.site, d);
  emit({ kind: 'drainage' });
}

const RANK = { info: 1, warning: 2, critical: 3 } as const;

function refreshSiteSeverity(): void {
  for (const site of model.sites) {
    const alerts = [...model.activeAlerts.values()].filter((a) => a.site === site.id);
    site.activeAlerts = alerts.length;
    site.worstSeverity = alerts.reduce<SiteViewT['worstSeverity']>((worst, a) => (!worst || RANK[a.severity] > RANK[worst] ? a.severity : worst), undefined);
  }
}

export function applyReadings(batch: Reading[]): void {
  heard();
  for (const r of batch) {
    gaps.observe(r.device, r.ts);
    model.newestReadingTs = Math.max(model.newestReadingTs ?? 0, r.ts);
    // Rainfall totals between drainage refreshes: add what fell (the server recomputes the windows every minute).
    const rain = r.metrics.rain_mm;
    if (rain !== undefined && rain > 0) addRain(r, rain);
    const entry = devices.get(r.device);
    if (!entry) continue;
    for (const [metric, value] of Object.entries(r.metrics)) {
      const seen = entry.device.latest[metric];
      if (!seen || r.ts >= seen.ts) entry.device.latest[metric] = { value, ts: r.ts };
    }
    entry.device.lastSeen = Math.max(entry.device.lastSeen ?? 0, r.ts);
    entry.device.status = 'online';
  }
  emit({ kind: 'readings', devices: batch.map((r) => r.device) });
}

function addRain(r: Reading, mm: number): void {
  recentRain.push({ site: r.site, device: r.device, ts: r.ts, mm });
  const d = model.drainage.get(r.site);
  if (d) addToGauge(d, r.device, mm, r.ts);
}

/** Live rain into the snapshot's totals; "today" is the site's calendar day, so it starts again at local midnight. */
function addToGauge(d: DrainageResponseT, device: string, mm: number, ts: number): void {
  const nextDay = startOfNextLocalDay(d.timeZone, d.dayStart);
  if (ts >= nextDay) {
    d.dayStart = startOfLocalDay(d.timeZone, ts);
    for (const g of d.gauges) g.rainTodayMm = 0;
  }
  const gauge = d.gauges.find((g) => g.device === device);
  if (gauge) {
    gauge.rain1hMm += mm;
    gauge.rain24hMm += mm;
    if (ts >= d.dayStart) gauge.rainTodayMm += mm;
  }
}

export function applyDevices(batch: LiveDevices): void {
  heard();
  for (const d of batch) {
    const entry = devices.get(d.device);
    if (!entry) continue;
    entry.device.status = d.status;
    entry.device.statusTs = d.ts;
    emit({ kind: 'device', device: d.device });
  }
}

export function applyActuator(event: LiveActuator, live = true): void {
  if (live) heard();
  const info = devices.get(event.device)?.device.actuator;
  if (!info) return;
  if (event.change === 'mode') {
    info.mode = event.mode;
    info.manualUntil = event.until;
  } else if (event.change === 'holders') {
    info.holders = event.holders;
  } else {
    // Only what the actuator itself reported is shown as its state (SPEC: state JSON with ack).
    info.state = event.state;
    info.value = event.value;
    info.stateTs = event.ts;
    if (event.ack) {
      const list = [...(acked.get(event.device) ?? []), event.ack].slice(-ACKS_KEPT);
      acked.set(event.device, list);
      if (info.pending && event.ack === info.pending.id) info.pending = undefined;
      const fb = model.feedback.get(event.device);
      // An ack, even a late one after the last try, says the actuator did it after all.
      if (fb && fb.command === event.ack) model.feedback.delete(event.device);
    }
  }
  emit({ kind: 'actuator', device: event.device });
}

/**
 * A command sent (the live event, or the answer to the page's own POST, whichever comes first). Its ack may
 * already be here (a quick actuator answers before the HTTP reply): then it is not waited for.
 */
export function applyCommand(event: LiveCommand, live = true): void {
  if (live) heard();
  const info = devices.get(event.device)?.device.actuator;
  if (!info) return;
  if (acked.get(event.device)?.includes(event.command.id)) return void emit({ kind: 'actuator', device: event.device });
  if (info.pending?.id === event.command.id) return;
  info.pending = event.command;
  const fb = model.feedback.get(event.device);
  if (!fb || fb.command !== event.command.id) model.feedback.set(event.device, { kind: 'waiting', command: event.command.id, attempt: 1, attempts: 0 });
  emit({ kind: 'actuator', device: event.device });
}

/** A command sent again, or given up on after its last try: the card stops saying it waits. */
export function applyCommandOutcome(event: LiveCommandOutcome): void {
  heard();
  const info = devices.get(event.device)?.device.actuator;
  if (!info || acked.get(event.device)?.includes(event.command.id)) return;
  if (event.outcome === 'retried') {
    model.feedback.set(event.device, { kind: 'waiting', command: event.command.id, attempt: event.attempt, attempts: event.attempts });
  } else {
    if (info.pending?.id === event.command.id) info.pending = undefined;
    model.feedback.set(event.device, { kind: 'failed', command: event.command.id, attempts: event.attempt, ts: event.ts });
  }
  emit({ kind: 'actuator', device: event.device });
}

export function applyAlert(alert: LiveAlert, live = true): void {
  if (live) heard();
  const seen = model.activeAlerts.get(alert.id);
  // The same event twice (the answer to an acknowledgement and its live echo) changes nothing.
  if (seen && seen.ts === alert.ts && seen.state === alert.state) return;
  if (seen && alert.state !== 'cleared' && seen.ts > alert.ts) return;
  if (alert.state === 'cleared') model.activeAlerts.delete(alert.id);
  else model.activeAlerts.set(alert.id, alert);
  refreshSiteSeverity();
  emit({ kind: 'alert', alert });
}

/** Live head counts: the zone's headCount on the page follows the gate reads. */
export function applyHeadCounts(batch: LiveHeadCounts): void {
  heard();
  for (const h of batch) {
    const zone = findSite(h.site)?.zones.find((z) => z.id === h.zone);
    if (!zone) continue;
    zone.headCount = h.headCount;
    zone.animalsOut = h.out;
  }
  emit({ kind: 'heads', zones: batch.map((h) => `${h.site}/${h.zone}`) });
}

export function setSilences(list: SilenceT[]): void {
  model.silences = list;
  emit({ kind: 'silences' });
}
