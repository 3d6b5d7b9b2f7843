import type { Logger } from '../core/logger.js';
import type { AlertEvent } from '../core/domain.js';
import type { Clock } from './clock.js';

/**
 * `notify` actions: POST the alert event as JSON to a webhook. Every event is its own small job, retried
 * with exponential backoff; rule evaluation only enqueues and never waits for the network.
 */
export interface NotifyTarget {
  url: string;
  headers?: Record<string, string>;
}

export interface NotifierOptions {
  fetch: typeof fetch;
  clock: Clock;
  logger: Logger;
  maxAttempts: number;
  baseDelayMs: number;
  timeoutMs?: number;
  /** Beyond this many undelivered events new ones are dropped (and logged): a dead endpoint must not eat memory. */
  maxQueued?: number;
}

export interface Notifier {
  send(target: NotifyTarget, event: AlertEvent): void;
  /** Resolves when every queued event has been delivered or given up on. */
  idle(): Promise<void>;
  stop(): void;
}

export function createNotifier(o: NotifierOptions): Notifier {
  const jobs = new Set<Promise<void>>();
  const timers = new Map<unknown, () => void>(); // pending backoff sleeps, woken early by stop()
  const controllers = new Set<AbortController>();
  let stopped = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = o.clock.setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.set(t, resolve);
    });

  async function attempt(target: NotifyTarget, body: string): Promise<'ok' | 'retry' | 'give-up'> {
    const ctl = new AbortController();
    controllers.add(ctl);
    const timer = setTimeout(() => ctl.abort(), o.timeoutMs ?? 10_000);
    try {
      const res = await o.fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body, signal: ctl.signal });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return 'ok';
      // A 4xx other than timeout / rate limit will not get better by asking again.
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      o.logger.warn({ url: target.url, status: res.status }, 'webhook answered with an error');
      return retryable ? 'retry' : 'give-up';
    } catch (err) {
      o.logger.warn({ url: target.url, err: (err as Error).message }, 'webhook unreachable');
      return 'retry';
    } finally {
      clearTimeout(timer);
      controllers.delete(ctl);
    }
  }

  async function deliver(target: NotifyTarget, event: AlertEvent): Promise<void> {
    const body = JSON.stringify(event);
    for (let n = 1; n <= o.maxAttempts && !stopped; n++) {
      const outcome = await attempt(target, body);
      if (outcome === 'ok') return;
      if (outcome === 'give-up') break;
      if (n < o.maxAttempts) await sleep(Math.min(o.baseDelayMs * 2 ** (n - 1), 60_000));
    }
    if (!stopped) o.logger.error({ url: target.url, alert: event.id, state: event.state }, 'webhook notification given up');
  }

  return {
    send(target, event) {
      if (stopped) return;
      if (jobs.size >= (o.maxQueued ?? 1000)) {
        o.logger.error({ url: target.url, alert: event.id }, 'too many undelivered webhook notifications: dropping this one');
        return;
      }
      const job = deliver(target, event).finally(() => jobs.delete(job));
      jobs.add(job);
    },
    async idle() {
      while (jobs.size > 0) await Promise.allSettled([...jobs]);
    },
    stop() {
      stopped = true;
      for (const [t, wake] of timers) {
        o.clock.clearTimeout(t);
        wake();
      }
      timers.clear();
      for (const c of controllers) c.abort();
    },
  };
}
