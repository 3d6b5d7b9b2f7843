import type { Logger } from '../core/logger.js';
import type { FarmMetrics } from '../core/observability.js';
import type { Clock } from '../rules/clock.js';
import type { ChannelPayload, ChannelSend } from './channels/index.js';
import type { Delivery, Journal } from './journal.js';
import { alertLink } from './message.js';
import { DEFAULT_RATE_PER_MINUTE, fullBucket, takeToken, type Bucket } from './rate-limit.js';
import { afterAttempt, type AttemptOutcome, type RetryPolicy } from './retry.js';
import type { ChannelT } from './schema.js';

/**
 * Sends what the journal has waiting: one attempt at a time per channel, each bounded by a timeout, within the
 * channel's rate limit, and records what came of it (sent, retrying at a later time, failed). A channel that
 * fails or hangs holds up only itself.
 */
export interface DispatcherDeps {
  journal: Journal;
  channels: ReadonlyMap<string, ChannelT>;
  senders: ReadonlyMap<string, ChannelSend>;
  clock: Clock;
  logger: Logger;
  metrics?: Pick<FarmMetrics, 'notifications'>;
  retry: RetryPolicy;
  attemptTimeoutMs: number;
  publicUrl?: string;
}

export interface Dispatcher {
  /** Starts an attempt on every channel that is free, has something due and may send now. */
  pump(): void;
  /** Resolves when the attempt on this delivery (queued now) has been made, or never if it is not made. */
  attempted(deliveryId: number): Promise<void>;
  idle(): Promise<void>;
  busy(): boolean;
  /** Cuts attempts in flight short; they stay queued in the journal and are made again after a restart. */
  stop(): Promise<void>;
}

export function createDispatcher(d: DispatcherDeps): Dispatcher {
  const buckets = new Map<string, Bucket>();
  const busyChannels = new Set<string>();
  const inFlight = new Map<number, { abort: AbortController; done: Promise<void> }>();
  const waiters = new Map<number, () => void>();
  let stopped = false;

  function payloadOf(delivery: Delivery): ChannelPayload {
    return {
      message: delivery.message!,
      site: delivery.site,
      test: delivery.kind === 'test',
      alerts: delivery.items.map((i) => ({ reason: i.reason, link: alertLink(d.publicUrl, i.alertId), alert: i.alert })),
    };
  }

  function attempt(delivery: Delivery, send: ChannelSend): void {
    busyChannels.add(delivery.channel);
    const abort = new AbortController();
    const timeout = d.clock.setTimeout(() => abort.abort(), d.attemptTimeoutMs);
    const done = send(payloadOf(delivery), abort.signal)
      .catch((err: Error): AttemptOutcome => ({ kind: 'retry', error: err.message }))
      .then((outcome) => {
        d.clock.clearTimeout(timeout);
        if (stopped && abort.signal.aborted) return; // cut short by stop(): made again after the restart
        const now = d.clock.now();
        const attempts = delivery.attempts + 1;
        const next = afterAttempt(outcome, attempts, now, d.retry);
        d.journal.recordAttempt(delivery.id, {
          status: next.status,
          attempts,
          at: now,
          nextAttemptAt: next.status === 'retrying' ? next.nextAttemptAt : undefined,
          error: next.status === 'sent' ? undefined : next.error,
        });
        d.metrics?.notifications.inc({ channel: delivery.channel, outcome: next.status });
        const where = { channel: delivery.channel, delivery: delivery.id, attempts, alerts: delivery.items.map((i) => i.alertId) };
        if (next.status === 'failed') d.logger.error({ ...where, error: next.error }, `notification to channel ${delivery.channel} failed`);
        else if (next.status === 'retrying')
          d.logger.warn({ ...where, error: next.error, nextAttemptAt: next.nextAttemptAt }, `notification to channel ${delivery.channel} will be tried again`);
      })
      .catch((err: Error) => d.logger.error({ err, delivery: delivery.id }, 'could not record a notification attempt'))
      .finally(() => {
        busyChannels.delete(delivery.channel);
        inFlight.delete(delivery.id);
        waiters.get(delivery.id)?.();
        waiters.delete(delivery.id);
        dispatcher.pump();
      });
    inFlight.set(delivery.id, { abort, done });
  }

  const dispatcher: Dispatcher = {
    pump() {
      if (stopped) return;
      const now = d.clock.now();
      for (const channel of d.journal.waitingChannels()) {
        if (busyChannels.has(channel)) continue;
        const next = d.journal.nextToSend(channel, now);
        if (!next) continue;
        const config = d.channels.get(channel);
        const send = d.senders.get(channel);
        if (!config || !send) {
          d.journal.recordAttempt(next.id, { status: 'failed', attempts: next.attempts, at: now, error: `channel "${channel}" is no longer in the farm file` });
          continue;
        }
        const perMinute = config.ratePerMinute ?? DEFAULT_RATE_PER_MINUTE[config.type];
        const token = takeToken(buckets.get(channel) ?? fullBucket(perMinute, now), perMinute, now);
        buckets.set(channel, token.bucket);
        if (token.ok) attempt(next, send); // otherwise a later tick tries again
      }
    },
    attempted: (id) => new Promise<void>((resolve) => waiters.set(id, resolve)),
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight.values()].map((f) => f.done));
    },
    busy: () => inFlight.size > 0,
    async stop() {
      stopped = true;
      for (const f of inFlight.values()) f.abort.abort();
      await Promise.allSettled([...inFlight.values()].map((f) => f.done));
    },
  };
  return dispatcher;
}
