import type { AlertEvent } from '../core/domain.js';
import type { NotificationRouteT } from './schema.js';

/**
 * What to send about one alert, and when (pure; time comes in as `now`). An alert's notification state is a
 * `Tracked` record that the component keeps durably, so repeats and escalations due while the service was down
 * happen after it restarts.
 *
 * - raised (or first seen escalated): to the channels of every matching route; repeats and escalation are armed.
 * - escalated: to the routes' channels, and to escalation channels already used; an acknowledgement is void (the
 *   engine re-opens the alert), so repeats and a not-yet-sent escalation are armed again.
 * - every `repeat` while raised and not acknowledged: again, to the same channels.
 * - `escalate.after` without an acknowledgement: to `escalate.channels`, once.
 * - acknowledged: nothing is sent; repeats and escalation stop.
 * - cleared: once, to every channel that was told about the alert; then it is forgotten.
 * - silenced: nothing is sent and nothing is armed (silenced channels are reported, for the record). When the
 *   silence ends and the alert is still raised and not acknowledged, it is treated as raised at that moment.
 */
export type SendReason = 'raised' | 'escalated' | 'repeat' | 'escalate' | 'cleared';

export interface Due {
  route: number;
  kind: 'repeat' | 'escalate';
  at: number;
}

export interface Tracked {
  /** The latest event of the alert. */
  alert: AlertEvent;
  /** When notifications about it began (its raise, or the end of the silence that held it back). */
  since: number;
  /** Indexes into the `notifications` routes that match it. */
  routes: number[];
  /** The silence holding it back now. */
  silence?: string;
  /** Channels that were sent something about it (they hear when it clears). */
  told: string[];
  /** Routes whose escalation channels have been used. */
  escalated: number[];
  due: Due[];
}

export interface Send {
  channel: string;
  alertId: string;
  reason: SendReason;
}

export interface Decision {
  /** The new state; undefined once the alert is done with (cleared, or never of interest). */
  tracked: Tracked | undefined;
  sends: Send[];
  /** Channels that would have been sent to, held back by this silence (recorded as deliveries `silenced`). */
  suppressed: { channel: string; silence: string; reason: SendReason }[];
}

export interface DecideContext {
  routes: readonly NotificationRouteT[];
  /** The routes matching an alert (its site, zone, kind, rule, severity). */
  matches(alert: AlertEvent): number[];
  /** The id of the active silence holding this alert back, if any. */
  silenceOf(alert: AlertEvent): string | undefined;
  now: number;
}

const unique = <T>(list: T[]): T[] => [...new Set(list)];

function routeChannels(ctx: DecideContext, routes: number[], escalated: number[]): string[] {
  return unique([
    ...routes.flatMap((i) => ctx.routes[i]?.channels ?? []),
    ...escalated.filter((i) => routes.includes(i)).flatMap((i) => ctx.routes[i]?.escalate?.channels ?? []),
  ]);
}

function sendsTo(channels: string[], alertId: string, reason: SendReason): Send[] {
  return channels.map((channel) => ({ channel, alertId, reason }));
}

/** Repeats from now; an escalation keeps its time if already armed (a worse level does not postpone the duty phone). */
function arm(ctx: DecideContext, routes: number[], escalated: number[], previous: Due[]): Due[] {
  const due: Due[] = [];
  for (const i of routes) {
    const r = ctx.routes[i];
    if (!r) continue;
    if (r.repeat) due.push({ route: i, kind: 'repeat', at: ctx.now + r.repeat });
    if (r.escalate && !escalated.includes(i))
      due.push(previous.find((d) => d.route === i && d.kind === 'escalate') ?? { route: i, kind: 'escalate', at: ctx.now + r.escalate.after });
  }
  return due;
}

/** The alert starts to be notified: raised, seen for the first time, or out of a silence. */
function begin(ctx: DecideContext, alert: AlertEvent, reason: SendReason, told: string[]): Decision {
  const routes = ctx.matches(alert);
  const silence = ctx.silenceOf(alert);
  const channels = routeChannels(ctx, routes, []);
  if (routes.length === 0) return { tracked: undefined, sends: [], suppressed: [] };
  if (silence)
    return {
      tracked: { alert, since: ctx.now, routes, silence, told, escalated: [], due: [] },
      sends: [],
      suppressed: channels.map((channel) => ({ channel, silence, reason })),
    };
  return {
    tracked: { alert, since: ctx.now, routes, told: unique([...told, ...channels]), escalated: [], due: arm(ctx, routes, [], []) },
    sends: sendsTo(channels, alert.id, reason),
    suppressed: [],
  };
}

export function onAlertEvent(prev: Tracked | undefined, alert: AlertEvent, ctx: DecideContext): Decision {
  const none: Decision = { tracked: prev, sends: [], suppressed: [] };
  if (alert.state === 'cleared') {
    if (!prev) return { ...none, tracked: undefined };
    const silence = ctx.silenceOf(alert);
    if (silence) return { tracked: undefined, sends: [], suppressed: prev.told.map((channel) => ({ channel, silence, reason: 'cleared' })) };
    return { tracked: undefined, sends: sendsTo(prev.told, alert.id, 'cleared'), suppressed: [] };
  }
  if (alert.state === 'acknowledged') return prev ? { ...none, tracked: { ...prev, alert, due: [] } } : none;
  if (!prev || prev.silence) return begin(ctx, alert, alert.state === 'raised' ? 'raised' : 'escalated', prev?.told ?? []);
  // The same raise again (a restart's recovery announcing an open alert): it was notified already.
  if (alert.state === 'raised' && prev.alert.state !== 'acknowledged') return { ...none, tracked: { ...prev, alert } };
  // Escalated (or de-escalated) while being notified.
  const routes = ctx.matches(alert);
  const silence = ctx.silenceOf(alert);
  if (silence)
    return {
      tracked: { ...prev, alert, routes, silence, due: [] },
      sends: [],
      suppressed: routeChannels(ctx, routes, prev.escalated).map((channel) => ({ channel, silence, reason: 'escalated' })),
    };
  const channels = routeChannels(ctx, routes, prev.escalated);
  const escalated = prev.escalated.filter((i) => routes.includes(i));
  return {
    tracked: {
      ...prev,
      alert,
      routes,
      escalated,
      told: unique([...prev.told, ...channels]),
      due: arm(ctx, routes, escalated, prev.alert.state === 'acknowledged' ? [] : prev.due),
    },
    sends: sendsTo(channels, alert.id, 'escalated'),
    suppressed: [],
  };
}

/** Repeats and escalations that are due, and silences that began or ended. */
export function onTick(t: Tracked, ctx: DecideContext): Decision {
  const none: Decision = { tracked: t, sends: [], suppressed: [] };
  if (t.alert.state === 'acknowledged') return none;
  const silence = ctx.silenceOf(t.alert);
  if (silence) return t.silence === silence ? none : { ...none, tracked: { ...t, silence, due: [] } };
  if (t.silence) return begin(ctx, t.alert, 'raised', t.told);
  const ready = t.due.filter((d) => d.at <= ctx.now);
  if (ready.length === 0) return none;
  const byChannel = new Map<string, SendReason>();
  let escalated = t.escalated;
  const due = t.due.filter((d) => d.at > ctx.now);
  for (const d of ready) {
    const route = ctx.routes[d.route];
    if (!route) continue;
    if (d.kind === 'escalate' && route.escalate) {
      escalated = unique([...escalated, d.route]);
      for (const c of route.escalate.channels) byChannel.set(c, 'escalate');
    } else if (d.kind === 'repeat' && route.repeat) {
      for (const c of routeChannels(ctx, [d.route], escalated)) if (!byChannel.has(c)) byChannel.set(c, 'repeat');
      // Repeats missed while the service was down collapse into this one.
      const next = d.at + route.repeat;
      due.push({ ...d, at: next > ctx.now ? next : ctx.now + route.repeat });
    }
  }
  const sends = [...byChannel].map(([channel, reason]) => ({ channel, alertId: t.alert.id, reason }));
  return { tracked: { ...t, escalated, due, told: unique([...t.told, ...byChannel.keys()]) }, sends, suppressed: [] };
}

/**
 * After a restart with a changed farm file: routes are matched again, and timers of routes that no longer apply
 * (or no longer repeat or escalate) are dropped.
 */
export function rematch(t: Tracked, ctx: DecideContext): Tracked {
  const routes = ctx.matches(t.alert);
  const due = t.due.filter((d) => routes.includes(d.route) && (d.kind === 'repeat' ? ctx.routes[d.route]?.repeat : ctx.routes[d.route]?.escalate));
  return { ...t, routes, due, escalated: t.escalated.filter((i) => routes.includes(i)) };
}
