import { describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import type { AlertT, SiteViewT } from '../../dashboard/schemas.js';
import { groupAlerts, stripGroups, filterAlerts } from '../../dashboard/ui/alert-groups.js';
import { alertText, deviceLabel, fmtDuration } from '../../dashboard/ui/alert-text.js';
import { barWidthMs, chartSeries, chartThresholds } from '../../dashboard/ui/chart-data.js';
import { fmtAge, freshness, liveness } from '../../dashboard/ui/freshness.js';
import { levelFill, networkChains, type NetZone } from '../../dashboard/ui/network.js';
import { applyActuator, applyAlert, applyCommand, applyCommandOutcome, model, setSites, subscribe } from '../../dashboard/ui/state.js';
import { timeAxisValues } from '../../dashboard/ui/time-axis.js';
import { DEMO_CONFIG } from '../helpers/service.js';

/**
 * The page's decisions are plain TypeScript, tested here without a browser: how a storm's alerts group and which
 * keep their place on the wall, the order of the drainage network, what a chart draws for rain, when a value is
 * old, what an actuator card says about its command, and alert texts written from the rules and templates.
 * (What a user sees of them in Chromium: wall.test.ts.)
 */
const demo = loadFarmConfig(DEMO_CONFIG);
const drain = demo.sites.find((s) => s.id === 'xihu-drain')!;
const NOW = Date.UTC(2026, 6, 24, 12);
let n = 0;
const alert = (a: Partial<AlertT> & Pick<AlertT, 'rule' | 'zone'>): AlertT => ({
  id: `${a.rule}:${a.zone}:${n++}`,
  site: 'xihu-drain',
  severity: 'warning',
  level: null,
  state: 'raised',
  value: null,
  metric: null,
  message: 'English text',
  ts: NOW,
  raisedAt: NOW,
  ...a,
});

/** A typhoon's alerts as the demo rules raise them: every pipe red, five rain windows at each of three gauges. */
function storm(): AlertT[] {
  const pipes = drain.zones.filter((z) => z.attributes?.type === 'pipe');
  const out = pipes.map((z, i) =>
    alert({ rule: 'storm-pipe-level', zone: z.id, device: `${z.id}-level`, severity: 'critical', level: 'red', metric: 'water_level', value: 2 + i / 20 }),
  );
  for (const g of ['rain-1', 'rain-2', 'rain-3']) {
    const device = `${g}-gauge`;
    out.push(alert({ rule: 'rainstorm-1h', zone: g, device, severity: 'critical', level: 'red', metric: 'rain_mm', value: 55 }));
    out.push(alert({ rule: 'rainstorm-3h', zone: g, device, severity: 'critical', level: 'red', metric: 'rain_mm', value: 120 }));
    out.push(alert({ rule: 'rainstorm-6h', zone: g, device, severity: 'warning', level: 'yellow', metric: 'rain_mm', value: 130 }));
    out.push(alert({ rule: 'rainstorm-12h', zone: g, device, severity: 'info', level: 'blue', metric: 'rain_mm', value: 140 }));
    out.push(alert({ rule: 'rainfall-24h', zone: g, device, severity: 'warning', level: 'heavy-rainstorm', metric: 'rain_mm', value: 150 }));
  }
  out.push(
    alert({ rule: 'system:actuator', zone: 'sump-1', device: 'sump-1-pump', severity: 'critical', detail: { kind: 'actuator', action: 'on', attempts: 3 } }),
  );
  return out;
}

describe('a storm on screen', () => {
  it('groups 27 alerts into "11 pipes red", each gauge\'s worst rain window and the dead pump', () => {
    const groups = groupAlerts(storm());
    const pipes = groups.find((g) => g.rule === 'storm-pipe-level')!;
    expect(pipes.alerts).toHaveLength(11);
    expect(pipes.alerts[0].value).toBe(2.5); // worst first
    const rain = groups.filter((g) => g.alerts[0].metric === 'rain_mm');
    // Each gauge shows one alert: its 3 h red window (red beats yellow; at one grade the larger amount), the rest folded.
    expect(rain.flatMap((g) => g.alerts.map((a) => `${a.device} ${a.rule}`))).toEqual([
      'rain-1-gauge rainstorm-3h',
      'rain-2-gauge rainstorm-3h',
      'rain-3-gauge rainstorm-3h',
    ]);
    expect(rain.reduce((k, g) => k + g.folded.length, 0)).toBe(12);
    expect(groups.map((g) => g.rule)).toEqual(['rainstorm-3h', 'system:actuator', 'storm-pipe-level']);
  });

  it('keeps the rainstorm and "not responding" on a full wall strip, and acknowledged groups give up their places', () => {
    const alerts = storm();
    // Six more critical groups elsewhere than the storm: the strip has two places.
    for (const z of ['shed-1', 'shed-2', 'shed-3', 'shed-4', 'field-1', 'field-2'])
      alerts.push(alert({ site: 'huyang', rule: `other-${z}`, zone: z, severity: 'critical' }));
    const { shown, more } = stripGroups(groupAlerts(alerts), 2);
    expect(shown.map((g) => g.rule).sort()).toEqual(['rainstorm-3h', 'system:actuator']);
    expect(more).toBe(17);
    const acked = storm().map((a) => (a.rule === 'storm-pipe-level' ? { ...a, state: 'acknowledged' as const, by: 'ops', ts: NOW + 60_000 } : a));
    const strip = stripGroups(groupAlerts(acked), 6);
    expect(strip.shown.map((g) => g.rule)).toEqual(['rainstorm-3h', 'system:actuator']);
    expect(strip.acknowledged).toBe(11);
    // Unacknowledged first, then the acknowledged (which keep their raised time).
    expect(groupAlerts(acked).map((g) => g.rule)).toEqual(['rainstorm-3h', 'system:actuator', 'storm-pipe-level']);
    expect(groupAlerts(acked).at(-1)!.raisedAt).toBe(NOW);
  });

  it('filters by site, severity, state and text', () => {
    const alerts = storm();
    expect(filterAlerts(alerts, { severity: 'info' }, () => '')).toHaveLength(3);
    expect(filterAlerts(alerts, { text: 'sump' }, () => '')).toHaveLength(1);
    expect(filterAlerts(alerts, { site: 'huyang' }, () => '')).toHaveLength(0);
    expect(filterAlerts(alerts, { state: 'acknowledged' }, () => '')).toHaveLength(0);
  });
});

describe('the drainage network in order', () => {
  it('draws the demo network from its upstream attributes: the trunk to the sump first, then the two branches', () => {
    const chains = networkChains(drain.zones.map((z) => ({ id: z.id, kind: z.kind, attributes: z.attributes })));
    expect(chains).toEqual([
      { zones: ['pipe-01', 'pipe-02', 'pipe-03', 'pipe-06', 'pipe-07', 'pipe-10', 'pipe-11', 'sump-1'], into: undefined },
      { zones: ['pipe-04', 'pipe-05'], into: undefined },
      { zones: ['pipe-08', 'pipe-09'], into: undefined },
    ]);
  });

  it('separate networks are separate chains; rain gauges are not part of them', () => {
    const zones: NetZone[] = [
      { id: 'a', kind: 'drain', attributes: { type: 'pipe' } },
      { id: 'b', kind: 'drain', attributes: { type: 'pipe', upstream: 'a' } },
      { id: 'c', kind: 'drain', attributes: { type: 'pipe', upstream: 'b' } },
      { id: 'x', kind: 'drain', attributes: { type: 'pipe' } },
      { id: 'y', kind: 'drain', attributes: { type: 'pipe', upstream: 'x' } },
      { id: 'r', kind: 'drain', attributes: { type: 'rain-gauge' } },
    ];
    expect(networkChains(zones).map((c) => c.zones)).toEqual([
      ['a', 'b', 'c'],
      ['x', 'y'],
    ]);
  });

  it('a pipe fuller than its diameter is surcharged: fill over 100 % and the metres above its top', () => {
    expect(levelFill(0.96, { diameterM: 0.8 })).toEqual({ percent: 120, surchargeM: expect.closeTo(0.16, 5) });
    expect(levelFill(2, { depthM: 4 })).toEqual({ percent: 50, surchargeM: 0 });
    expect(levelFill(1, {})).toBeUndefined();
  });
});

describe('history charts', () => {
  const H = 3_600_000;
  it('rain is charted as the amount per bucket (sum) with a running total, not the mean of per-report increments', () => {
    // 65 mm in an hour reported every 5 min: 12 reports of ~5.4 mm. The mean per report is 5.4; the bar is 65.
    const s = chartSeries(
      'rain_mm',
      [
        { ts: 0, mean: 65 / 12, min: 5, max: 6, count: 12, sum: 65 },
        { ts: H, mean: 2, min: 2, max: 2, count: 6, sum: 12 },
      ],
      H,
    );
    expect(s).toEqual({ kind: 'increment', x: [0, H], sum: [65, 12], total: [65, 77] });
  });

  it('a stretch without buckets is a gap (a null point), not a line across it', () => {
    const b = (ts: number, v: number) => ({ ts, mean: v, min: v, max: v, count: 1 });
    const s = chartSeries('fill', [b(0, 10), b(H, 12), b(11 * H, 80)], H);
    expect(s).toEqual({ kind: 'level', x: [0, H, 2 * H, 11 * H], mean: [10, 12, null, 80], min: [10, 12, null, 80], max: [10, 12, null, 80] });
  });

  it("draws the rules' thresholds that compare with the chart: each pipe's own level grades, hourly rain only on hourly bars", () => {
    // Pipe 05, a DN800 sewage pipe 3 m deep: yellow at its design depth, orange when full, red 1 m under the street.
    const attributes = drain.zones.find((z) => z.id === 'pipe-05')!.attributes;
    const pipe = { site: 'xihu-drain', zone: 'pipe-05', kind: 'drain' as const, device: 'pipe-05-level', attributes };
    expect(chartThresholds(demo.rules, pipe, 'water_level', 5 * 60_000).map((t) => `${t.level} ${t.value}`)).toEqual(['yellow 0.56', 'orange 0.8', 'red 2']);
    expect(chartThresholds(demo.rules, pipe, 'fill', 5 * 60_000)).toEqual([]);
    const gauge = { site: 'xihu-drain', zone: 'rain-1', kind: 'drain' as const, device: 'rain-1-gauge' };
    expect(chartThresholds(demo.rules, gauge, 'rain_mm', H).map((t) => t.value)).toEqual([20, 30, 40, 50]);
    expect(chartThresholds(demo.rules, gauge, 'rain_mm', 5 * 60_000)).toEqual([]);
    expect([barWidthMs(H), barWidthMs(24 * H), barWidthMs(7 * 24 * H), barWidthMs(30 * 24 * H)]).toEqual([5 * 60_000, H, H, 24 * H]);
  });

  it('time axes in the reader\'s language on a 24-hour clock, in the site\'s zone (no "4pm", no "11/29/26")', () => {
    const at = (iso: string) => Date.parse(iso) / 1000;
    const hours = [at('2026-11-29T08:00:00Z'), at('2026-11-29T15:00:00Z'), at('2026-11-29T16:00:00Z')];
    const axis = (lang: string, incr: number, splits: number[]) => timeAxisValues(lang, 'Asia/Shanghai')(undefined as never, splits, 0, 0, incr);
    expect(axis('en', 3600, hours)).toEqual(['16:00', '23:00', 'Nov 30']);
    expect(axis('zh-CN', 3600, hours)).toEqual(['16:00', '23:00', '11月30日']);
    expect(axis('zh-CN', 86_400, [at('2026-11-28T16:00:00Z')])).toEqual(['11月29日']);
  });
});

describe('old values and presence', () => {
  it('a value is old past twice its report interval; a connected sensor that stopped reporting is silent', () => {
    expect(freshness(NOW - 19_000, 10_000, NOW)).toBe('live');
    expect(freshness(NOW - 21_000, 10_000, NOW)).toBe('old');
    expect(freshness(NOW - 9 * 60_000, undefined, NOW)).toBe('live'); // unknown interval: 5 min, old after 10
    expect(liveness({ role: 'sensor', status: 'online', lastSeen: NOW - 600_000, reportEveryMs: 10_000 }, NOW)).toBe('silent');
    expect(liveness({ role: 'sensor', status: 'offline', lastSeen: NOW - 1000, reportEveryMs: 10_000 }, NOW)).toBe('offline');
    expect(liveness({ role: 'actuator', status: 'online', lastSeen: NOW - 86_400_000 }, NOW)).toBe('online');
    expect(fmtAge(12 * 60_000, 'en')).toBe('12 min. ago');
    expect(fmtAge(12 * 60_000, 'zh-CN')).toBe('12分钟前');
    expect([fmtDuration(600_000, 'en'), fmtDuration(3 * 3_600_000, 'zh-CN')]).toEqual(['10 min', '3小时']);
  });
});

/** The demo farm's drainage site as the API answers it, for the page's model. */
function drainSite(): SiteViewT {
  return {
    id: 'xihu-drain',
    name: drain.name,
    timeZone: 'Asia/Shanghai',
    language: 'zh-CN',
    operatorHoldMs: 30 * 60_000,
    activeAlerts: 0,
    zones: drain.zones.map((z) => ({
      id: z.id,
      name: z.name,
      kind: z.kind,
      attributes: z.attributes,
      devices: z.devices.map((d) => ({
        id: d.id,
        role: d.role,
        type: d.type,
        status: 'online' as const,
        latest: {},
        actuator: d.role === 'actuator' ? { mode: 'auto' as const, holders: [] } : undefined,
      })),
    })),
  };
}

describe('what an actuator card says about its command', () => {
  const ref = { site: 'xihu-drain', zone: 'sump-1', kind: 'drain' as const, device: 'sump-1-pump' };
  const command = (id: string) => ({ id, action: 'on' as const, reason: 'manual:ops', ts: NOW });

  it('an ack that arrives before the HTTP answer: the card never says "waiting"', () => {
    setSites([drainSite()]);
    applyActuator({ change: 'state', ...ref, state: 'on', value: 100, ack: 'c1', ts: NOW });
    applyCommand({ ...ref, command: command('c1') }, false); // the POST's answer, after the ack
    applyCommand({ ...ref, command: command('c1') }); // and its live event
    expect(model.sites[0].zones.find((z) => z.id === 'sump-1')!.devices[1].actuator!.pending).toBeUndefined();
    expect(model.feedback.get('sump-1-pump')).toBeUndefined();
  });

  it('waiting, then try 2 of 3, then failed (not responding); a late ack clears it', () => {
    applyCommand({ ...ref, command: command('c2') }, false);
    expect(model.feedback.get('sump-1-pump')).toMatchObject({ kind: 'waiting', attempt: 1 });
    applyCommandOutcome({ ...ref, command: command('c2'), outcome: 'retried', attempt: 2, attempts: 3, ts: NOW });
    expect(model.feedback.get('sump-1-pump')).toMatchObject({ kind: 'waiting', attempt: 2, attempts: 3 });
    applyCommandOutcome({ ...ref, command: command('c2'), outcome: 'failed', attempt: 3, attempts: 3, ts: NOW });
    expect(model.feedback.get('sump-1-pump')).toMatchObject({ kind: 'failed', attempts: 3 });
    expect(model.sites[0].zones.find((z) => z.id === 'sump-1')!.devices[1].actuator!.pending).toBeUndefined();
    applyActuator({ change: 'state', ...ref, state: 'on', value: 100, ack: 'c2', ts: NOW + 1 });
    expect(model.feedback.get('sump-1-pump')).toBeUndefined();
  });

  it('an acknowledgement seen twice (the POST answer and its live echo) is one event for the alert history', () => {
    const seen: string[] = [];
    const off = subscribe((c) => c.kind === 'alert' && seen.push(c.alert.state));
    const raised = alert({ rule: 'storm-pipe-level', zone: 'pipe-01', device: 'pipe-01-level' });
    const acked = { ...raised, state: 'acknowledged' as const, by: 'ops', ts: NOW + 1000 };
    applyAlert(raised);
    applyAlert(acked, false);
    applyAlert(acked);
    off();
    expect(seen).toEqual(['raised', 'acknowledged']);
    expect(model.activeAlerts.get(raised.id)).toMatchObject({ raisedAt: NOW, ts: NOW + 1000 });
  });
});

describe('alert texts from the rules and templates', () => {
  it("fills the rule's message with names, not ids; built-in alerts from templates", () => {
    const site = drainSite();
    const rules = demo.rules;
    const level = alert({ rule: 'sewer-level', zone: 'pipe-05', device: 'pipe-05-level', level: 'red', value: 2.137, metric: 'water_level' });
    expect(alertText(level, { rules, site })).toBe('Pipe 05 water level 2.1 m (red)');
    const gas = alert({ rule: 'shed-ammonia', site: 'huyang', zone: 'shed-1', device: 'shed-1-env', value: 26, metric: 'nh3' });
    expect(alertText(gas, { rules, site: undefined })).toMatch(/^Ammonia 26 ppm \(18\.4 mg\/m³\) in shed-1/);
    const pump = alert({ rule: 'system:actuator', zone: 'sump-1', device: 'sump-1-pump', detail: { kind: 'actuator', action: 'on', attempts: 3 } });
    expect(alertText(pump, { rules, site })).toBe('Actuator not responding: Pumping station sump Pump did not acknowledge “on” after 3 tries');
    expect(deviceLabel(site, 'rain-1', 'rain-1-gauge')).toBe('Rain gauge 1');
    // A rule the page does not know keeps the server's text.
    expect(alertText(alert({ rule: 'gone', zone: 'pipe-01' }), { rules, site })).toBe('English text');
  });
});
