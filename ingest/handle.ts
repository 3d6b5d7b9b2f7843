import type { DeviceRef, DeviceStatus } from '../core/domain.js';
import type { RejectReason, RejectRecord } from '../core/events.js';

/** What ingest offers the API and dashboard: counters, the last rejects, device presence. */
export interface IngestStats {
  accepted: number; // readings stored (one message may carry many)
  duplicates: number; // values (device, metric, ts) already accepted that came again
  messages: number; // telemetry messages seen
  rejected: Record<RejectReason, number>;
  batches: number; // store write batches
  tagReads?: number; // ear-tag reads taken (new ones; one message may carry many)
  tagDuplicates?: number; // ear-tag reads delivered again (same reader, tag, ts): stored and counted once
}

export interface DevicePresence extends DeviceRef {
  status: DeviceStatus | 'unknown';
  statusTs?: number;
  lastSeen?: number; // ts of the last accepted reading
}

export interface IngestHandle {
  stats(): IngestStats;
  /** Newest first, at most REJECTS_KEPT (default 100). */
  rejects(): RejectRecord[];
  presence(): DevicePresence[];
}
