import type { Awaitable } from '../rules/handle.js';
import type { DeliveryStatus } from './journal.js';
import type { SendReason } from './lifecycle.js';
import type { Silence, SilenceMatch } from './silences.js';

/**
 * What the notifications component offers the API and the dashboard (silences, deliveries, channel tests).
 * Results may be promises: in a split deployment the component runs in the rules processes and the dashboard
 * asks them over MQTT (cluster/remote-notifications.ts).
 */
export interface SilenceInput {
  /** Given by a caller that creates the same silence in several processes; otherwise made up. */
  id?: string;
  match: SilenceMatch;
  /** Epoch ms; default now. */
  startsAt?: number;
  endsAt: number;
  reason: string;
}

/** One message to one channel, as the API lists it (GET /api/notifications). */
export interface DeliveryView {
  id: string;
  channel: string;
  channelType: string;
  site?: string;
  kind: 'alerts' | 'test';
  /** grouping (waiting for companions), queued, retrying, sent, failed, silenced (held back by a silence). */
  outcome: DeliveryStatus;
  ts: number;
  attempts: number;
  sendAfter?: number;
  lastAttemptAt?: number;
  nextAttemptAt?: number;
  sentAt?: number;
  error?: string;
  silence?: string;
  title?: string;
  alerts: { id: string; reason: SendReason }[];
}

export interface DeliveriesQuery {
  alert?: string;
  channel?: string;
  from?: number;
  to?: number;
  limit?: number;
}

export interface NotificationsHandle {
  /** Active silences (and, with includeEnded, those that ended in the last 7 days), soonest end first. */
  silences(includeEnded?: boolean): Awaitable<Silence[]>;
  /** Throws NotificationsError('BAD_SILENCE') for an empty match or an end not after its start and now. */
  addSilence(input: SilenceInput, user: string): Awaitable<Silence>;
  /** Ends an active silence now; undefined when there is no such active silence. */
  endSilence(id: string, user: string): Awaitable<Silence | undefined>;
  deliveries(q: DeliveriesQuery): Awaitable<DeliveryView[]>;
  /** Sends a test message at once (no grouping) and answers after the first attempt, or as it stands after a few seconds. */
  testChannel(channelId: string, user: string): Promise<DeliveryView>;
}

export class NotificationsError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'BAD_SILENCE',
    message: string,
  ) {
    super(message);
    this.name = 'NotificationsError';
  }
}
