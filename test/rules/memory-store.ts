import type { AlertEvent, Reading, TagRead } from '../../core/domain.js';
import type { CommandRecord, EventQuery, HistoryQuery, HistorySeries, LatestValue, RawPoint, RawQuery, Store, TagPosition } from '../../store/store.js';

/** A Store in memory for rules tests: same answers as the real ones (raw oldest first, events newest first). */
export interface MemoryStore extends Store {
  points: RawPoint[];
  alertEvents: AlertEvent[];
  commandRecords: CommandRecord[];
  tagReadList: TagRead[];
}

export function createMemoryStore(): MemoryStore {
  const points: RawPoint[] = [];
  const alertEvents: AlertEvent[] = [];
  const commandRecords: CommandRecord[] = [];
  const tagReadList: TagRead[] = [];
  const inRange = (ts: number, q: { from?: number; to?: number }) => (q.from === undefined || ts >= q.from) && (q.to === undefined || ts < q.to);
  const newestFirst = <T extends { ts: number }>(items: T[]) =>
    items
      .map((item, seq) => ({ item, seq }))
      .sort((a, b) => b.item.ts - a.item.ts || b.seq - a.seq)
      .map((x) => x.item);

  return {
    kind: 'embedded',
    points,
    alertEvents,
    commandRecords,
    tagReadList,
    async init() {},
    async writeReadings(readings: Reading[]) {
      for (const r of readings) {
        for (const [metric, value] of Object.entries(r.metrics)) {
          const i = points.findIndex((p) => p.device === r.device && p.metric === metric && p.ts === r.ts);
          const point = { site: r.site, zone: r.zone, kind: r.kind, device: r.device, metric, value, ts: r.ts };
          if (i >= 0) points[i] = point;
          else points.push(point);
        }
      }
    },
    async history(_q: HistoryQuery): Promise<HistorySeries[]> {
      return [];
    },
    async latest(filter = {}) {
      const latest = new Map<string, LatestValue>();
      for (const p of points) {
        if ((filter.site && p.site !== filter.site) || (filter.zone && p.zone !== filter.zone) || (filter.device && p.device !== filter.device)) continue;
        const key = `${p.device}|${p.metric}`;
        if ((latest.get(key)?.ts ?? -Infinity) <= p.ts) latest.set(key, { ...p });
      }
      return [...latest.values()];
    },
    async raw(q: RawQuery) {
      return points
        .filter(
          (p) =>
            (!q.site || p.site === q.site) &&
            (!q.zone || p.zone === q.zone) &&
            (!q.device || p.device === q.device) &&
            (!q.metric || p.metric === q.metric) &&
            inRange(p.ts, q),
        )
        .sort((a, b) => a.ts - b.ts || a.device.localeCompare(b.device) || a.metric.localeCompare(b.metric))
        .slice(0, q.limit ?? 100_000);
    },
    async writeAlerts(events) {
      alertEvents.push(...events.map((e) => structuredClone(e)));
    },
    async alerts(q: EventQuery) {
      return newestFirst(alertEvents.filter((e) => inRange(e.ts, q) && (!q.site || e.site === q.site))).slice(0, q.limit ?? 1000);
    },
    async writeCommands(records) {
      commandRecords.push(...records.map((r) => structuredClone(r)));
    },
    async commands(q) {
      return newestFirst(commandRecords.filter((c) => inRange(c.ts, q) && (!q.site || c.site === q.site) && (!q.device || c.device === q.device))).slice(
        0,
        q.limit ?? 1000,
      );
    },
    async writeTagReads(reads) {
      for (const r of reads) if (!tagReadList.some((t) => t.tag === r.tag && t.device === r.device && t.ts === r.ts)) tagReadList.push({ ...r });
    },
    async tagReads(q) {
      return newestFirst(
        tagReadList.filter(
          (r) =>
            inRange(r.ts, q) &&
            (!q.tag || r.tag === q.tag) &&
            (!q.site || r.site === q.site) &&
            (!q.zone || r.zone === q.zone) &&
            (!q.device || r.device === q.device),
        ),
      ).slice(0, q.limit ?? 100_000);
    },
    async tagPositions(since) {
      const out = new Map<string, TagPosition>();
      for (const r of tagReadList) {
        if (r.ts < since) continue;
        const p = out.get(r.tag) ?? { tag: r.tag, last: r };
        if (r.ts >= p.last.ts) p.last = r;
        if (r.direction && (!p.lastGate || r.ts >= p.lastGate.ts)) p.lastGate = r;
        out.set(r.tag, p);
      }
      return [...out.values()];
    },
    async close() {},
  };
}
