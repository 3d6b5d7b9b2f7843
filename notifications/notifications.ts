import { randomUUID } from 'node:crypto';
import type { FarmConfigT } from '../core/config/schema.js';
import type { AlertEvent } from '../core/domain.js';
import type { FarmBus } from '../core/events.js';
import type { FarmIndex } from '../core/farm-index.js';
import type { Logger } from '../core/logger.js';
import type { FarmMetrics } from '../core/observability.js';
import { systemClock, type Clock } from '../rules/clock.js';
import { senderFor, type ChannelSend } from './channels/index.js';
import { createDispatcher } from './dispatcher.js';
import { createMailer, type Mailer } from './channels/email.js';
import { DEFAULT_GROUP_TIMING, groupSendTime, type GroupTiming } from './grouping.js';
import { NotificationsError, type DeliveryView, type NotificationsHandle } from './handle.js';
import { openJournal, type Delivery, type DeliveryItem, type Journal } from './journal.js';
import { onAlertEvent, onTick, rematch, type DecideContext, type Decision, type Send, type Tracked } from './lifecycle.js';
import { composeMessage, testMessage } from './message.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { matchingRoutes } from './routing.js';
import { silenceActive, silenceFor, type Silence } from './silences.js';
import { messageContextFor } from './sites.js';

/**
 * Notifications of alerts (SPEC `channels`, `notifications`, silences): listens to `alert` events on the FarmBus,
 * decides with the pure lifecycle (lifecycle.ts) what goes where and when, groups a site's alerts per channel
 * (grouping.ts), keeps everything in its journal (journal.ts) and sends through the channels with retries
 * (retry.ts) and a rate limit per channel (rate-limit.ts).
 *
 * Nothing here is on the rules' path: alert events are taken in a microtask after the engine's evaluation and
 * handled in one transaction; sending runs in the background, one message at a time per channel, each attempt
 * bounded by a timeout, so a failing or hanging channel holds up only itself.
 */
export interface NotificationsDeps {
  config: Pick<FarmConfigT, 'sites' | 'channels' | 'notifications'>;
  farm: FarmIndex;
  bus: FarmBus;
  logger: Logger;
  clock?: Clock;
  fetch?: typeof fetch;
  /** The journal file (DATA_DIR/notifications.db); without it, kept in memory for the life of the process. */
  journalPath?: string;
  /** Counts attempts on /metrics (farm_notification_attempts_total{channel,outcome}). */
  metrics?: Pick<FarmMetrics, 'notifications'>;
}

export interface NotificationsOptions {
  /** SMTP_URL: the mail server of email channels. */
  smtpUrl?: string;
  /** PUBLIC_URL: the dashboard's address as users reach it, for links in messages. */
  publicUrl?: string;
  group: GroupTiming;
  retry: RetryPolicy;
  /** How often repeats, escalations, silence ends, groups and retries are looked at. */
  tickMs: number;
  /** One attempt to send longer than this counts as failed (and is tried again): a hanging receiver. */
  attemptTimeoutMs: number;
  /** POST /api/channels/:id/test answers after the first attempt or this long, whichever comes first. */
  testWaitMs: number;
  /** Finished deliveries and ended silences are kept this long. */
  keepMs: number;
}

export const DEFAULT_NOTIFICATIONS_OPTIONS: NotificationsOptions = {
  group: DEFAULT_GROUP_TIMING,
  retry: DEFAULT_RETRY,
  tickMs: 1000,
  attemptTimeoutMs: 10_000,
  testWaitMs: 4000,
  keepMs: 30 * 86_400_000,
};

/** How long ended silences stay in GET /api/silences?state=all. */
const ENDED_SILENCES_LISTED_MS = 7 * 86_400_000;

export type Notifications = NotificationsHandle & {
  start(): void;
  stop(): Promise<void>;
  /** Runs one tick now (repeats, escalations, silences, groups due, sending). */
  tick(): void;
  /** Drops the state of alerts that are no longer open (their clear happened while this was not listening). */
  reconcile(open: AlertEvent[]): void;
  /** Resolves once alert events taken so far are handled and no attempt is in flight. */
  idle(): Promise<void>;
};

export function createNotifications(deps: NotificationsDeps, options: Partial<NotificationsOptions> = {}): Notifications {
  const opts: NotificationsOptions = { ...DEFAULT_NOTIFICATIONS_OPTIONS, ...options };
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger.child({ component: 'notifications' });
  const channels = new Map(deps.config.channels.map((c) => [c.id, c]));
  const mailer: Mailer | undefined =
    opts.smtpUrl && deps.config.channels.some((c) => c.type === 'email') ? createMailer(opts.smtpUrl, opts.attemptTimeoutMs) : undefined;
  const senders = new Map<string, ChannelSend>(
    deps.config.channels.map((c) => [c.id, senderFor(c, { fetch: deps.fetch ?? fetch, now: () => clock.now(), mailer, smtpUrl: opts.smtpUrl })]),
  );
  const journal: Journal = openJournal(deps.journalPath ?? ':memory:');
  const tracked = new Map<string, Tracked>();
  let silences: Silence[] = [];
  const dispatcher = createDispatcher({
    journal,
    channels,
    senders,
    clock,
    logger,
    metrics: deps.metrics,
    retry: opts.retry,
    attemptTimeoutMs: opts.attemptTimeoutMs,
    publicUrl: opts.publicUrl,
  });
  const pump = () => {
    if (state !== 'stopped') dispatcher.pump();
  };
  let pending: AlertEvent[] = [];
  let timer: unknown;
  let state: 'idle' | 'running' | 'stopped' = 'idle';

  const kindOf = (a: AlertEvent) => deps.farm.zone(a.site, a.zone)?.kind;
  function decideContext(now: number): DecideContext {
    return {
      routes: deps.config.notifications,
      matches: (a) => matchingRoutes(deps.config.notifications, a, kindOf(a)),
      silenceOf: (a) => silenceFor(a, silences, now)?.id,
      now,
    };
  }

  /** Carries a decision out in the journal (the caller holds the transaction). */
  function apply(prev: Tracked | undefined, d: Decision, alert: AlertEvent, now: number): void {
    if (d.tracked) {
      tracked.set(d.tracked.alert.id, d.tracked);
      if (d.tracked !== prev) journal.putTracked(d.tracked);
    } else if (prev) {
      tracked.delete(prev.alert.id);
      journal.dropTracked(prev.alert.id);
    }
    const since = d.tracked?.since ?? prev?.since ?? now;
    for (const s of d.sends) enqueue(s, alert, since, now);
    for (const s of d.suppressed) {
      const id = journal.create({ channel: s.channel, site: alert.site, kind: 'alerts', status: 'silenced', createdAt: now, silence: s.silence });
      journal.addItem(id, { alertId: alert.id, reason: s.reason, alert, since });
    }
  }

  /** A send joins the group collecting (site, channel), or starts one. */
  function enqueue(s: Send, alert: AlertEvent, since: number, now: number): void {
    if (!channels.has(s.channel))
      return logger.error({ channel: s.channel }, 'a route names a channel that does not exist: check notifications: in the farm file');
    const item: DeliveryItem = { alertId: s.alertId, reason: s.reason, alert, since };
    const open = journal.openGroup(alert.site, s.channel);
    const id =
      open?.id ??
      journal.create({
        channel: s.channel,
        site: alert.site,
        kind: 'alerts',
        status: 'grouping',
        createdAt: now,
        sendAfter: groupSendTime(journal.lastFlushAt(alert.site, s.channel), now, opts.group),
      });
    journal.addItem(id, item);
  }

  function onAlert(event: AlertEvent): void {
    if (state === 'stopped') return;
    pending.push(event);
    if (pending.length === 1) queueMicrotask(handlePending);
  }

  function handlePending(): void {
    const events = pending;
    pending = [];
    if (events.length === 0) return;
    try {
      const now = clock.now();
      const ctx = decideContext(now);
      journal.transaction(() => {
        for (const e of events) {
          const prev = tracked.get(e.id);
          apply(prev, onAlertEvent(prev, e, ctx), e, now);
        }
      });
    } catch (err) {
      logger.error({ err, alerts: events.map((e) => e.id) }, 'could not record notifications of alert events');
    }
    pump();
  }

  /** Items still worth sending when a group goes out: not silenced now; a repeat or escalation not acknowledged since. */
  function stillWanted(items: DeliveryItem[], now: number): DeliveryItem[] {
    const last = new Map<string, DeliveryItem>();
    for (const item of items) {
      const current = tracked.get(item.alertId)?.alert;
      if (silenceFor(item.alert, silences, now)) continue;
      if ((item.reason === 'repeat' || item.reason === 'escalate') && current?.state === 'acknowledged') continue;
      // One line per alert: its latest news, with its latest values.
      last.set(item.alertId, item.reason !== 'cleared' && current ? { ...item, alert: current } : item);
    }
    return [...last.values()];
  }

  function flushGroups(now: number): void {
    for (const group of journal.dueGroups(now)) {
      const items = stillWanted(group.items, now);
      journal.transaction(() => {
        if (items.length === 0) return journal.remove(group.id);
        journal.replaceItems(group.id, items);
        journal.markFlushed(group.id, composeMessage(items, messageContextFor(deps.config, deps.farm, group.site ?? '', opts.publicUrl)), now);
      });
    }
  }

  function tick(): void {
    if (state === 'stopped') return;
    const now = clock.now();
    try {
      const ctx = decideContext(now);
      journal.transaction(() => {
        for (const t of [...tracked.values()]) {
          const d = onTick(t, ctx);
          if (d.tracked !== t || d.sends.length > 0 || d.suppressed.length > 0) apply(t, d, t.alert, now);
        }
      });
      flushGroups(now);
    } catch (err) {
      logger.error({ err }, 'notifications tick failed');
    }
    pump();
  }

  function loop(): void {
    if (state !== 'running') return;
    tick();
    timer = clock.setTimeout(loop, opts.tickMs);
  }

  function view(d: Delivery): DeliveryView {
    return {
      id: String(d.id),
      channel: d.channel,
      channelType: channels.get(d.channel)?.type ?? 'unknown',
      site: d.site,
      kind: d.kind,
      outcome: d.status,
      ts: d.createdAt,
      attempts: d.attempts,
      sendAfter: d.status === 'grouping' ? d.sendAfter : undefined,
      lastAttemptAt: d.lastAttemptAt,
      nextAttemptAt: d.status === 'retrying' ? d.nextAttemptAt : undefined,
      sentAt: d.sentAt,
      error: d.error,
      silence: d.silence,
      title: d.message?.title,
      alerts: d.items.map((i) => ({ id: i.alertId, reason: i.reason })),
    };
  }

  const listener = (e: AlertEvent) => onAlert(e);

  function refreshSilences(now: number): void {
    silences = journal.silences(now - ENDED_SILENCES_LISTED_MS);
  }

  return {
    start() {
      if (state !== 'idle') return;
      const now = clock.now();
      journal.prune(now - opts.keepMs);
      refreshSilences(now);
      const ctx = decideContext(now);
      for (const t of journal.tracked()) tracked.set(t.alert.id, rematch(t, ctx));
      deps.bus.on('alert', listener);
      state = 'running';
      if (deps.config.channels.length > 0 && !opts.publicUrl)
        logger.warn('PUBLIC_URL is not set: notifications will carry no link to the dashboard; set it to the address users open the dashboard at');
      logger.info(
        {
          channels: channels.size,
          routes: deps.config.notifications.length,
          open: tracked.size,
          silences: silences.filter((s) => silenceActive(s, now)).length,
        },
        'notifications started',
      );
      timer = clock.setTimeout(loop, 0);
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      deps.bus.off('alert', listener);
      if (timer !== undefined) clock.clearTimeout(timer);
      handlePendingNow();
      await dispatcher.stop();
      mailer?.close();
      journal.close();
    },
    tick,
    reconcile(open) {
      const ids = new Set(open.map((a) => a.id));
      const gone = [...tracked.keys()].filter((id) => !ids.has(id));
      if (gone.length === 0) return;
      journal.transaction(() => {
        for (const id of gone) {
          tracked.delete(id);
          journal.dropTracked(id);
        }
      });
      logger.info({ alerts: gone }, 'forgot the notification state of alerts that are no longer open');
    },
    async idle() {
      for (;;) {
        await new Promise<void>((r) => queueMicrotask(r));
        if (pending.length === 0 && !dispatcher.busy()) return;
        await dispatcher.idle();
      }
    },

    silences(includeEnded = false) {
      const now = clock.now();
      refreshSilences(now);
      return silences.filter((s) => includeEnded || silenceActive(s, now) || s.startsAt > now).sort((a, b) => a.endsAt - b.endsAt);
    },
    addSilence(input, user) {
      const now = clock.now();
      const startsAt = input.startsAt ?? now;
      if (Object.values(input.match).every((v) => v === undefined))
        throw new NotificationsError('BAD_SILENCE', 'a silence needs at least one of site, zone, device or rule in match');
      if (!(input.endsAt > now && input.endsAt > startsAt))
        throw new NotificationsError('BAD_SILENCE', 'a silence must end in the future and after it starts: give until (a later time) or forMinutes');
      const silence: Silence = {
        id: input.id ?? `sil-${randomUUID().slice(0, 8)}`,
        match: { ...input.match },
        reason: input.reason,
        startsAt,
        endsAt: input.endsAt,
        createdBy: user,
        createdAt: now,
      };
      for (const k of Object.keys(silence.match) as (keyof Silence['match'])[]) if (silence.match[k] === undefined) delete silence.match[k];
      journal.putSilence(silence);
      refreshSilences(now);
      logger.info({ silence: silence.id, match: silence.match, until: silence.endsAt, user }, 'silence created');
      tick();
      return silence;
    },
    endSilence(id, user) {
      const now = clock.now();
      refreshSilences(now);
      const s = silences.find((x) => x.id === id && (silenceActive(x, now) || x.startsAt > now));
      if (!s) return undefined;
      const ended: Silence = { ...s, endedAt: now, endedBy: user };
      journal.putSilence(ended);
      refreshSilences(now);
      logger.info({ silence: id, user }, 'silence ended');
      tick();
      return ended;
    },
    deliveries: (q) => journal.deliveries(q).map(view),
    async testChannel(channelId, user) {
      if (!channels.has(channelId))
        throw new NotificationsError(
          'NOT_FOUND',
          `There is no channel "${channelId}" in the farm file (channels: ${[...channels.keys()].join(', ') || 'none'}).`,
        );
      const now = clock.now();
      const timeZone = deps.farm.timeZone(deps.config.sites[0]?.id ?? '');
      const id = journal.create({ channel: channelId, kind: 'test', status: 'queued', createdAt: now, message: testMessage(channelId, user, now, timeZone) });
      logger.info({ channel: channelId, user }, 'channel test requested');
      const finished = dispatcher.attempted(id);
      pump();
      let timeout: unknown;
      await Promise.race([finished, new Promise<void>((resolve) => (timeout = clock.setTimeout(resolve, opts.testWaitMs)))]);
      clock.clearTimeout(timeout);
      return view(journal.delivery(id)!);
    },
  };

  function handlePendingNow(): void {
    if (pending.length > 0) handlePending();
  }
}
