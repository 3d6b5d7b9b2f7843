import type { MqttClient } from 'mqtt';
import type { FarmBus, FarmEvents, RejectRecord, RejectReason } from '../core/events.js';
import { REJECT_REASONS } from '../core/events.js';
import type { FarmIndex } from '../core/farm-index.js';
import type { DevicePresence, IngestHandle, IngestStats } from '../ingest/handle.js';
import { ingestStatsFilter, ingestStatsTopic, lastLevel } from './service-topics.js';

/**
 * What the dashboard shows of ingest when ingest runs in other processes: counters summed over every ingest
 * process (each keeps a retained message with its own, cluster/ingest-stats.ts), the latest rejects from the
 * bridged `reject` events, and device presence from bridged `status` events and readings.
 */
export interface IngestView extends IngestHandle {
  start(): Promise<void>;
  stop(): void;
  /** Per ingest process, as last reported. */
  perInstance(): Record<string, IngestStats>;
}

export function createIngestView(deps: { bus: FarmBus; client: MqttClient; farm: FarmIndex; topicRoot: string; rejectsKept: number }): IngestView {
  const byInstance = new Map<string, IngestStats>();
  const rejects: RejectRecord[] = [];
  const presence = new Map<string, DevicePresence>();
  const entry = (ref: { site: string; zone: string; kind: DevicePresence['kind']; device: string }) => {
    let p = presence.get(ref.device);
    if (!p) presence.set(ref.device, (p = { site: ref.site, zone: ref.zone, kind: ref.kind, device: ref.device, status: 'unknown' }));
    return p;
  };

  const onMessage = (topic: string, payload: Buffer) => {
    if (!topic.startsWith(ingestStatsTopic(deps.topicRoot, ''))) return;
    if (payload.length === 0) return void byInstance.delete(lastLevel(topic));
    try {
      byInstance.set(lastLevel(topic), JSON.parse(payload.toString('utf8')) as IngestStats);
    } catch {
      // only service processes publish here; an unreadable one is skipped
    }
  };
  const listeners = {
    reject: (r: RejectRecord) => {
      rejects.unshift(r);
      if (rejects.length > deps.rejectsKept) rejects.length = deps.rejectsKept;
    },
    status: (s: FarmEvents['status'][0]) => {
      const p = entry(s);
      p.status = s.status;
      p.statusTs = s.ts;
    },
    reading: (r: FarmEvents['reading'][0]) => {
      const p = entry(r);
      p.lastSeen = Math.max(p.lastSeen ?? 0, r.ts);
    },
  };

  return {
    async start() {
      deps.client.on('message', onMessage);
      for (const [event, fn] of Object.entries(listeners)) deps.bus.on(event as 'reading', fn as never);
      await deps.client.subscribeAsync(ingestStatsFilter(deps.topicRoot), { qos: 1 });
    },
    stop() {
      deps.client.off('message', onMessage);
      for (const [event, fn] of Object.entries(listeners)) deps.bus.off(event as 'reading', fn as never);
    },
    stats() {
      const total: IngestStats = {
        accepted: 0,
        duplicates: 0,
        messages: 0,
        batches: 0,
        tagReads: 0,
        tagDuplicates: 0,
        rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
      };
      for (const s of byInstance.values()) {
        total.accepted += s.accepted;
        total.duplicates += s.duplicates ?? 0;
        total.messages += s.messages;
        total.batches += s.batches;
        total.tagReads! += s.tagReads ?? 0;
        total.tagDuplicates! += s.tagDuplicates ?? 0;
        for (const r of REJECT_REASONS) total.rejected[r] += s.rejected?.[r] ?? 0;
      }
      return total;
    },
    perInstance: () => Object.fromEntries(byInstance),
    rejects: () => rejects.slice(),
    presence: () =>
      deps.farm
        .devices()
        .map((d) => ({ ...(presence.get(d.device) ?? { site: d.site, zone: d.zone, kind: d.kind, device: d.device, status: 'unknown' as const }) })),
  };
}
