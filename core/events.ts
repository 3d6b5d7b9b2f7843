import { EventEmitter } from 'node:events';
import type { ActuatorHoldEvent, ActuatorState, AlertEvent, Command, DeviceRef, DeviceStatus, HolderView, Reading, TagRead } from './domain.js';

/**
 * Typed events between components in one process. Data flows one way: ingest emits readings and device
 * changes, rules emit commands and alerts, the dashboard only listens.
 */
export interface FarmEvents {
  reading: [Reading];
  status: [DeviceRef & { status: DeviceStatus; ts: number }];
  actuatorState: [DeviceRef & ActuatorState];
  command: [DeviceRef & { command: Command }];
  /**
   * A command sent again for want of an ack (`retried`), or given up on after its last try (`failed`, then the
   * "actuator not responding" alert follows): screens stop saying "waiting for the actuator".
   */
  commandOutcome: [CommandOutcomeEvent];
  alert: [AlertEvent];
  reject: [RejectRecord];
  actuatorMode: [DeviceRef & { mode: 'auto' | 'manual'; until?: number; by?: string }];
  /** An operator's hold started or ended (rules engine). */
  actuatorHold: [ActuatorHoldEvent];
  /** Who holds an actuator changed (a rule fired or cleared, a hold started or ended, fail-safe, floor). */
  actuatorHolders: [DeviceRef & { holders: HolderView[]; ts: number }];
  /** The new reads of one tag-read message (one reader, one instant); a redelivered read is not emitted again. */
  tagReads: [TagRead[]];
  /** A zone's live head count changed (animals/ herd). */
  headCount: [HeadCountEvent];
}

export type CommandOutcomeEvent = DeviceRef & { command: Command; outcome: 'retried' | 'failed'; attempt: number; attempts: number; ts: number };

export interface HeadCountEvent {
  site: string;
  zone: string;
  headCount: number;
  /** Animals whose last gate read was `out` through this zone's gate (out at pasture). */
  out: number;
  ts: number;
}

export type RejectReason =
  | 'malformed_json'
  | 'schema'
  | 'out_of_range'
  | 'unknown_metric'
  | 'oversize'
  | 'unauthorised_topic'
  | 'unknown_device'
  | 'future_timestamp'
  | 'stale_timestamp';

export const REJECT_REASONS: readonly RejectReason[] = [
  'malformed_json',
  'schema',
  'out_of_range',
  'unknown_metric',
  'oversize',
  'unauthorised_topic',
  'unknown_device',
  'future_timestamp',
  'stale_timestamp',
];

export interface RejectRecord {
  reason: RejectReason;
  detail: string;
  topic: string;
  device?: string;
  ts: number; // when it was rejected
  sample?: string; // first bytes of the payload, for inspection
}

export class FarmBus extends EventEmitter<FarmEvents> {
  constructor() {
    super({ captureRejections: false });
    this.setMaxListeners(100);
  }
}
