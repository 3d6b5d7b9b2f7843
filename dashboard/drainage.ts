import type { AlertEvent } from '../core/domain.js';
import type { FarmIndex, IndexedDevice } from '../core/farm-index.js';
import { HOUR_MS, startOfLocalDay } from '../core/site-time.js';
import type { RuleT } from '../rules/schema.js';
import type { HistoryBucket, LatestValue, Store } from '../store/store.js';
import type { DrainageResponseT } from './schemas.js';
import type { LiveRain } from './live-rain.js';
import { fillGrade, fillLevels, metricConditions, worstSeverity } from './site-view.js';

/**
 * The drainage view of a site: each pipe's fill and grade, each rain gauge's 1 h / 24 h rainfall and warning,
 * and the pipes that stayed at high water for hours while it was dry, which points at silting or a blockage
 * (the pipes to dredge). Rainfall and fill history come from the store, aggregated there.
 */
export interface HighWaterRule {
  /** A pipe counts when its fill never dropped below this over the whole window. */
  fillPct: number;
  hours: number;
  /** ... and the site's gauges together measured less rain than this in the same window (dry weather). */
  dryRainMm: number;
}

export const DEFAULT_HIGH_WATER: HighWaterRule = { fillPct: 50, hours: 6, dryRainMm: 1 };

/** What fell in the buckets: their sums (rain_mm is an increment, so its buckets carry one). */
export function bucketsTotal(buckets: readonly HistoryBucket[]): number {
  return buckets.reduce((sum, b) => sum + (b.sum ?? b.mean * b.count), 0);
}

/** Lowest fill over the window, or undefined when the data do not cover it (a silent sensor is not "high water"). */
export function sustainedMinimum(buckets: readonly HistoryBucket[], hours: number): number | undefined {
  const covered = buckets.filter((b) => b.count > 0);
  if (covered.length < Math.max(1, Math.floor(hours * 0.8))) return undefined;
  return Math.min(...covered.map((b) => b.min));
}

function measures(device: IndexedDevice, metric: string, latest: readonly LatestValue[]): boolean {
  if (device.role !== 'sensor') return false;
  if (device.config.metrics) return device.config.metrics.includes(metric);
  return latest.some((v) => v.device === device.device && v.metric === metric);
}

function ruleMetric(rules: readonly RuleT[], ruleId: string): string[] {
  const rule = rules.find((r) => r.id === ruleId);
  return rule ? metricConditions(rule.when).map((c) => c.metric) : [];
}

export async function buildDrainage(
  deps: {
    farm: FarmIndex;
    store: Store;
    rules: readonly RuleT[];
    activeAlerts: readonly AlertEvent[];
    highWater: HighWaterRule;
    liveRain?: Pick<LiveRain, 'since'>;
  },
  site: string,
  now: number,
): Promise<DrainageResponseT> {
  const zones = deps.farm.zones().filter((z) => z.site === site && (z.kind === 'drain' || z.kind === 'field'));
  const latest = await deps.store.latest({ site });
  const hw = deps.highWater;
  // "Today" is the site's calendar day (SPEC "Identity"): from local midnight, whatever zone the server runs in.
  const timeZone = deps.farm.timeZone(site);
  const dayStart = startOfLocalDay(timeZone, now);
  const out: DrainageResponseT = { site, pipes: [], gauges: [], highWater: [], highWaterRule: { ...hw }, asOf: now, timeZone, dayStart };

  let siteRainInWindow = 0;
  for (const zone of zones) {
    for (const device of zone.devices.filter((d) => measures(d, 'rain_mm', latest))) {
      // One read for every window, so the 1 h, 24 h and today totals agree with each other; plus the rain seen live
      // that the store does not show yet (ingest sends it live a moment before it is durable), once each.
      const from = Math.min(dayStart, now - Math.max(24, hw.hours) * HOUR_MS);
      const stored = await deps.store.raw({ device: device.device, metric: 'rain_mm', from, to: now + 1, limit: 1_000_000 });
      const rain = stored.map((p) => ({ ts: p.ts, mm: p.value }));
      const storedAt = new Set(stored.map((p) => p.ts));
      for (const r of deps.liveRain?.since(device.device, from) ?? []) if (r.ts <= now && !storedAt.has(r.ts)) rain.push(r);
      const fellSince = (t: number) => rain.reduce((sum, r) => (r.ts >= t ? sum + r.mm : sum), 0);
      siteRainInWindow += fellSince(now - hw.hours * HOUR_MS);
      const alerts = deps.activeAlerts.filter(
        (a) =>
          a.site === site &&
          a.state !== 'cleared' &&
          (a.device === device.device || (a.zone === zone.zone && !a.device && ruleMetric(deps.rules, a.rule).includes('rain_mm'))),
      );
      const worst = alerts.find((a) => a.severity === worstSeverity(alerts));
      out.gauges.push({
        zone: zone.zone,
        device: device.device,
        rain1hMm: round1(fellSince(now - HOUR_MS)),
        rain24hMm: round1(fellSince(now - 24 * HOUR_MS)),
        rainTodayMm: round1(fellSince(dayStart)),
        level: worst ? (worst.level ?? worst.severity) : undefined,
      });
    }
  }

  const candidates: { zone: string; device: string; minFill: number }[] = [];
  for (const zone of zones.filter((z) => z.kind === 'drain')) {
    const levels = fillLevels(deps.rules, zone);
    for (const device of zone.devices.filter((d) => measures(d, 'fill', latest))) {
      const fill = latest.find((v) => v.device === device.device && v.metric === 'fill');
      out.pipes.push({ zone: zone.zone, device: device.device, fill: fill?.value, ts: fill?.ts, level: fillGrade(fill?.value, levels) });
      const history = await deps.store.history({ device: device.device, metric: 'fill', from: now - hw.hours * HOUR_MS, to: now + 1, everyMs: HOUR_MS });
      const minFill = sustainedMinimum(
        history.flatMap((s) => s.buckets),
        hw.hours,
      );
      if (minFill !== undefined && minFill >= hw.fillPct) candidates.push({ zone: zone.zone, device: device.device, minFill: round1(minFill) });
    }
  }
  if (siteRainInWindow < hw.dryRainMm) out.highWater = candidates.map((c) => ({ ...c, hours: hw.hours }));
  return out;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
