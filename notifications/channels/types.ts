import type { AlertEvent } from '../../core/domain.js';
import type { SendReason } from '../lifecycle.js';
import type { RenderedMessage } from '../message.js';
import type { AttemptOutcome } from '../retry.js';

/** What a channel sends: the rendered text and, for receivers that want data (webhook), the alerts themselves. */
export interface ChannelPayload {
  message: RenderedMessage;
  site?: string;
  test?: boolean;
  alerts: { reason: SendReason; link?: string; alert: AlertEvent }[];
}

/** One attempt; never throws. The signal aborts an attempt that takes too long (a hanging receiver). */
export type ChannelSend = (payload: ChannelPayload, signal: AbortSignal) => Promise<AttemptOutcome>;
