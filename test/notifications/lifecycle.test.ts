import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../core/domain.js';
import { onAlertEvent, onTick, rematch, type DecideContext, type Tracked } from '../../notifications/lifecycle.js';
import { matchingRoutes } from '../../notifications/routing.js';
import { NotificationRoute, type NotificationRouteT } from '../../notifications/schema.js';

/** The pure decisions of notifications/lifecycle.ts, driven by explicit times (no timers, no sockets). */
const MIN = 60_000;
const T0 = Date.parse('2026-11-30T02:00:00Z');

const routes: NotificationRouteT[] = [
  NotificationRoute.parse({
    match: { site: 'huyang', severity: ['warning', 'critical'] },
    channels: ['shed-group'],
    repeat: '30m',
    escalate: { after: '15m', channels: ['duty-phone', 'duty-mail'] },
  }),
  NotificationRoute.parse({ match: { kind: 'drain' }, channels: ['drain-group'] }),
];

function ctx(now: number, silenced: (a: AlertEvent) => string | undefined = () => undefined): DecideContext {
  return { routes, matches: (a) => matchingRoutes(routes, a, a.zone.startsWith('pipe') ? 'drain' : 'shed'), silenceOf: silenced, now };
}

const alert = (over: Partial<AlertEvent> = {}): AlertEvent => ({
  id: 'a1',
  rule: 'shed-ammonia',
  site: 'huyang',
  zone: 'shed-1',
  device: 'shed-1-env',
  severity: 'warning',
  level: null,
  state: 'raised',
  value: 25,
  metric: 'nh3',
  message: 'Ammonia 25 ppm',
  ts: T0,
  ...over,
});

function raise(now = T0): Tracked {
  return onAlertEvent(undefined, alert(), ctx(now)).tracked!;
}

describe('notification lifecycle of one alert', () => {
  it('a raise goes to the matching route at once; an alert no route matches is not tracked', () => {
    const d = onAlertEvent(undefined, alert(), ctx(T0));
    expect(d.sends).toEqual([{ channel: 'shed-group', alertId: 'a1', reason: 'raised' }]);
    expect(d.tracked?.due).toEqual([
      { route: 0, kind: 'repeat', at: T0 + 30 * MIN },
      { route: 0, kind: 'escalate', at: T0 + 15 * MIN },
    ]);
    expect(onAlertEvent(undefined, alert({ severity: 'info' }), ctx(T0))).toEqual({ tracked: undefined, sends: [], suppressed: [] });
  });

  it('unacknowledged after 15 min it escalates to the duty channels once; repeats every 30 min go to the group and the duty channels', () => {
    let t = raise();
    expect(onTick(t, ctx(T0 + 14 * MIN)).sends).toEqual([]);
    const esc = onTick(t, ctx(T0 + 15 * MIN));
    expect(esc.sends.map((s) => [s.channel, s.reason])).toEqual([
      ['duty-phone', 'escalate'],
      ['duty-mail', 'escalate'],
    ]);
    t = esc.tracked!;
    expect(onTick(t, ctx(T0 + 16 * MIN)).sends).toEqual([]);
    const rep = onTick(t, ctx(T0 + 30 * MIN));
    expect(rep.sends.map((s) => [s.channel, s.reason])).toEqual([
      ['shed-group', 'repeat'],
      ['duty-phone', 'repeat'],
      ['duty-mail', 'repeat'],
    ]);
    expect(rep.tracked!.due).toEqual([{ route: 0, kind: 'repeat', at: T0 + 60 * MIN }]);
  });

  it('an acknowledgement stops repeats and escalation; the clear still reaches everyone who was told', () => {
    const t = raise();
    const acked = onAlertEvent(t, alert({ state: 'acknowledged', by: 'ops', ts: T0 + 5 * MIN }), ctx(T0 + 5 * MIN));
    expect(acked.sends).toEqual([]);
    expect(onTick(acked.tracked!, ctx(T0 + 60 * MIN)).sends).toEqual([]);
    const cleared = onAlertEvent(acked.tracked, alert({ state: 'cleared', ts: T0 + 70 * MIN }), ctx(T0 + 70 * MIN));
    expect(cleared).toEqual({ tracked: undefined, sends: [{ channel: 'shed-group', alertId: 'a1', reason: 'cleared' }], suppressed: [] });
  });

  it('an escalation after an acknowledgement re-arms repeats and the duty escalation, and goes to channels already escalated to', () => {
    const t = onTick(raise(), ctx(T0 + 15 * MIN)).tracked!; // escalated to duty
    const acked = onAlertEvent(t, alert({ state: 'acknowledged', ts: T0 + 20 * MIN }), ctx(T0 + 20 * MIN)).tracked!;
    const worse = onAlertEvent(acked, alert({ state: 'escalated', severity: 'critical', level: 'red', ts: T0 + 40 * MIN }), ctx(T0 + 40 * MIN));
    expect(worse.sends.map((s) => s.channel)).toEqual(['shed-group', 'duty-phone', 'duty-mail']);
    expect(worse.tracked!.due).toEqual([{ route: 0, kind: 'repeat', at: T0 + 70 * MIN }]);
  });

  it('an escalation of an unacknowledged alert does not postpone the duty escalation already armed', () => {
    const worse = onAlertEvent(raise(), alert({ state: 'escalated', severity: 'critical', ts: T0 + 10 * MIN }), ctx(T0 + 10 * MIN));
    expect(worse.tracked!.due).toContainEqual({ route: 0, kind: 'escalate', at: T0 + 15 * MIN });
  });

  it('repeats missed while the service was down collapse into one', () => {
    const t = onTick(raise(), ctx(T0 + 15 * MIN)).tracked!;
    const late = onTick(t, ctx(T0 + 125 * MIN));
    expect(late.sends.filter((s) => s.channel === 'shed-group')).toHaveLength(1);
    expect(late.tracked!.due).toEqual([{ route: 0, kind: 'repeat', at: T0 + 155 * MIN }]);
    expect(onTick(late.tracked!, ctx(T0 + 126 * MIN)).sends).toEqual([]);
  });

  it('a silenced alert is tracked but sends nothing; when the silence ends it is notified as raised and timers start then', () => {
    const silenced = onAlertEvent(
      undefined,
      alert(),
      ctx(T0, () => 'sil-1'),
    );
    expect(silenced.sends).toEqual([]);
    expect(silenced.suppressed).toEqual([{ channel: 'shed-group', silence: 'sil-1', reason: 'raised' }]);
    expect(
      onTick(
        silenced.tracked!,
        ctx(T0 + 20 * MIN, () => 'sil-1'),
      ).sends,
    ).toEqual([]);
    const out = onTick(silenced.tracked!, ctx(T0 + 60 * MIN));
    expect(out.sends).toEqual([{ channel: 'shed-group', alertId: 'a1', reason: 'raised' }]);
    expect(out.tracked!.due).toContainEqual({ route: 0, kind: 'escalate', at: T0 + 75 * MIN });
  });

  it('a silence created while an alert is being notified stops its repeats, and its clear sends nothing', () => {
    const t = raise();
    const quiet = onTick(
      t,
      ctx(T0 + MIN, () => 'sil-2'),
    ).tracked!;
    expect(quiet.due).toEqual([]);
    expect(
      onAlertEvent(
        quiet,
        alert({ state: 'cleared' }),
        ctx(T0 + 2 * MIN, () => 'sil-2'),
      ).sends,
    ).toEqual([]);
  });

  it('the same raise again (recovery after a restart) sends nothing and keeps the timers', () => {
    const t = raise();
    const again = onAlertEvent(t, alert({ ts: T0 + MIN }), ctx(T0 + MIN));
    expect(again.sends).toEqual([]);
    expect(again.tracked!.due).toEqual(t.due);
  });

  it('a clear of an alert nobody was told about sends nothing', () => {
    expect(onAlertEvent(undefined, alert({ state: 'cleared' }), ctx(T0)).sends).toEqual([]);
  });

  it('after a restart with changed routes, timers of routes that no longer apply are dropped', () => {
    const t = raise();
    const other: NotificationRouteT[] = [NotificationRoute.parse({ match: { site: 'huyang' }, channels: ['shed-group'] })];
    const again = rematch(t, { ...ctx(T0), routes: other, matches: (a) => matchingRoutes(other, a, 'shed') });
    expect(again.due).toEqual([]);
  });
});
