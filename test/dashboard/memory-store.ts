import type { AlertEvent, Reading } from '../../core/domain.js';
import type { CommandRecord, EventQuery, HistoryQuery, HistorySeries, LatestValue, RawPoint, RawQuery, Store } from '../../store/store.js';

/**
 * An in-memory Store (plain arrays) for the dashboard tests: a stand-in until the embedded store lands, kept
 * simple on purpose. Buckets start at `from` and step by `everyMs`.
 */
export interface MemoryStore extends Store {
  points: RawPoint[];
  alertLog: AlertEvent[];
  commandLog: CommandRecord[];
}

function matches(p: { site: string; zone: string; device: string }, q: { site?: string; zone?: string; device?: string }): boolean {
  return (!q.site || p.site === q.site) && (!q.zone || p.zone === q.zone) && (!q.device || p.device === q.device);
}

export function createMemoryStore(): MemoryStore {
  const points: RawPoint[] = [];
  const alertLog: AlertEvent[] = [];
  const commandLog: CommandRecord[] = [];
  return {
    kind: 'embedded',
    points,
    alertLog,
    commandLog,
    async init() {},
    async writeReadings(readings: Reading[]) {
      for (const r of readings)
        for (const [metric, value] of Object.entries(r.metrics)) points.push({ site: r.site, zone: r.zone, kind: r.kind, device: r.device, metric, value, ts: r.ts });
    },
    async history(q: HistoryQuery): Promise<HistorySeries[]> {
      const byDevice = new Map<string, Map<number, number[]>>();
      for (const p of points) {
        if (p.metric !== q.metric || p.ts < q.from || p.ts >= q.to || !matches(p, q)) continue;
        const bucket = q.from + Math.floor((p.ts - q.from) / q.everyMs) * q.everyMs;
        const buckets = byDevice.get(p.device) ?? new Map<number, number[]>();
        buckets.set(bucket, [...(buckets.get(bucket) ?? []), p.value]);
        byDevice.set(p.device, buckets);
      }
      return [...byDevice].map(([device, buckets]) => ({
        device,
        buckets: [...buckets]
          .sort((a, b) => a[0] - b[0])
          .map(([ts, values]) => ({ ts, mean: values.reduce((s, v) => s + v, 0) / values.length, min: Math.min(...values), max: Math.max(...values), count: values.length })),
      }));
    },
    async latest(filter = {}): Promise<LatestValue[]> {
      const newest = new Map<string, RawPoint>();
      for (const p of points) {
        if (!matches(p, filter)) continue;
        const key = `${p.device}/${p.metric}`;
        const seen = newest.get(key);
        if (!seen || p.ts >= seen.ts) newest.set(key, p);
      }
      return [...newest.values()];
    },
    async raw(q: RawQuery) {
      return points.filter((p) => matches(p, q) && (!q.metric || p.metric === q.metric) && p.ts >= q.from && p.ts < q.to).slice(0, q.limit);
    },
    async writeAlerts(events) {
      alertLog.push(...events);
    },
    async alerts(q: EventQuery) {
      return alertLog.filter((a) => (!q.site || a.site === q.site) && (q.from === undefined || a.ts >= q.from) && (q.to === undefined || a.ts < q.to)).slice(-(q.limit ?? 1000));
    },
    async writeCommands(records) {
      commandLog.push(...records);
    },
    async commands(q) {
      return commandLog.filter((c) => (!q.device || c.device === q.device) && (!q.site || c.site === q.site) && (q.from === undefined || c.ts >= q.from) && (q.to === undefined || c.ts < q.to)).slice(-(q.limit ?? 1000));
    },
    async close() {},
  };
}
