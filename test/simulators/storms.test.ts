import { beforeAll, describe, expect, it } from 'vitest';
import type { AlertRecord, ScenarioReport } from '../../simulators/report.js';
import { isFault, scenarioReport } from './report-run.js';

/**
 * Storms true to the record against the whole service and the demo rules (drainage site only; the sheds and fields
 * do not feed the drains in the model), on the simulator's clock, asserted from the report of the service's alerts:
 * - typhoon: In-Fa as Hangzhou measured it (≈ 255 mm over 23-26 July 2021, hours mostly under 10 mm, one 24 mm hour);
 * - cloudburst: Beigaofeng, 30 July 2021, 95.3 mm in one hour.
 * The rain grades are raised in order, and every one clears within its own window after the rain stops (a sum over
 * 3 h cannot fall before the rain has left those 3 h), plus one report interval.
 */
const WINDOW_H: Record<string, number> = { 'rainstorm-1h': 1, 'rainstorm-3h': 3, 'rainstorm-6h': 6, 'rainstorm-12h': 12, 'rainfall-24h': 24 };
const HOUR = 3_600_000;
const REPORT_MS = 5 * 60_000;
const GAUGE_LAG_MS = 10 * 60_000; // gauges a few km apart see the rain up to 10 min late

let typhoon: ScenarioReport;
let cloudburst: ScenarioReport;

beforeAll(async () => {
  typhoon = await scenarioReport('typhoon', { sites: ['xihu-drain'] });
  cloudburst = await scenarioReport('cloudburst', { sites: ['xihu-drain'] });
}, 1_200_000);

const GAUGES = ['rain-1', 'rain-2', 'rain-3'];
const of = (r: ScenarioReport, rule: string, zone: string) => r.alerts.filter((a) => a.rule === rule && a.zone === zone);
/** When a level was first reached at a gauge (raised at it, or escalated to it). */
const reached = (r: ScenarioReport, rule: string, zone: string, level: string) =>
  Math.min(...of(r, rule, zone).flatMap((a) => a.levels.filter((l) => l.level === level).map((l) => l.ts)));

function clearsInTime(r: ScenarioReport): void {
  const rainEnds = r.facts.lastRainTs! + GAUGE_LAG_MS;
  const rain = r.alerts.filter((a) => a.rule in WINDOW_H);
  expect(rain.length).toBeGreaterThan(0);
  for (const a of rain) {
    expect(a.cleared, `${a.rule} at ${a.zone}`).toBeDefined();
    expect(a.cleared! - rainEnds, `${a.rule} at ${a.zone} cleared ${a.clearedLocal}`).toBeLessThanOrEqual(WINDOW_H[a.rule] * HOUR + REPORT_MS);
  }
}

describe('typhoon In-Fa against the demo rules', () => {
  it('plays four and a half days with every reading accepted and no faults', () => {
    expect(typhoon.runner).toMatchObject({ stalls: 0, errors: 0, rejected: 0 });
    expect(typhoon.alerts.filter(isFault)).toEqual([]);
    expect(typhoon.startLocal).toBe('2021-07-23T00:00:00+08:00');
  });

  it('each gauge raises the CMA signals in order, blue (12 h), yellow (6 h), orange (3 h), and no red: Hangzhou never had 100 mm in 3 h', () => {
    for (const g of GAUGES) {
      const blue = reached(typhoon, 'rainstorm-12h', g, 'blue');
      const yellow = reached(typhoon, 'rainstorm-6h', g, 'yellow');
      const orange = reached(typhoon, 'rainstorm-3h', g, 'orange');
      expect([blue, yellow, orange].every(Number.isFinite), g).toBe(true);
      expect(blue).toBeLessThanOrEqual(yellow);
      expect(yellow).toBeLessThanOrEqual(orange);
      expect(reached(typhoon, 'rainstorm-3h', g, 'red')).toBe(Infinity);
      // the one 24 mm hour is short-duration heavy rain (blue, ≥ 20 mm in 1 h), nothing more
      expect(of(typhoon, 'rainstorm-1h', g).map((a) => a.level)).toEqual(['blue']);
    }
  });

  it('each gauge grades the day as GB/T 28592 does: rainstorm (≥ 50 mm in 24 h), then heavy rainstorm (≥ 100 mm), as one alert', () => {
    for (const g of GAUGES) {
      const day = of(typhoon, 'rainfall-24h', g);
      expect(day.length, g).toBeGreaterThanOrEqual(1);
      expect(day[0].levels.map((l) => l.level).slice(0, 2)).toEqual(['rainstorm', 'heavy-rainstorm']);
      expect(day.every((a) => a.level !== 'extraordinary-rainstorm')).toBe(true);
    }
  });

  it('every rain grade clears within its own window after the rain stops', () => clearsInTime(typhoon));

  it('the drains cope: no pipe reaches its limit, the sump keeps its cycle, and no pipe is taken for silted', () => {
    expect(typhoon.alerts.filter((a) => !(a.rule in WINDOW_H))).toEqual([]);
    expect(typhoon.actuations.filter((a) => a.type === 'pump' && a.action === 'on').length).toBeGreaterThan(3);
  });
});

describe('the Beigaofeng cloudburst against the demo rules', () => {
  it('each gauge escalates its hourly grade in order up to red (blue, yellow, orange, red), as one alert', () => {
    for (const g of GAUGES) {
      const hourly = of(cloudburst, 'rainstorm-1h', g);
      expect(hourly, g).toHaveLength(1);
      // Up to red the grade only climbs (a 5-minute report may step over a grade; it never steps back before red).
      const rank = hourly[0].levels.map((l) => ['blue', 'yellow', 'orange', 'red'].indexOf(l.level));
      const climb = rank.slice(0, rank.indexOf(3) + 1);
      expect(climb, g).toEqual([...climb].sort());
      expect(climb[0], g).toBeLessThanOrEqual(1); // 95 mm in an hour: one 5-minute report may carry a gauge past 20 mm and 30 mm at once
      expect(hourly[0]).toMatchObject({ level: 'red', severity: 'critical' });
    }
  });

  it('the CMA signals come in order, up to red (≥ 100 mm in 3 h), and the day is a heavy rainstorm', () => {
    for (const g of GAUGES) {
      const blue = reached(cloudburst, 'rainstorm-12h', g, 'blue');
      const yellow = reached(cloudburst, 'rainstorm-6h', g, 'yellow');
      const orange = reached(cloudburst, 'rainstorm-3h', g, 'orange');
      const red = reached(cloudburst, 'rainstorm-3h', g, 'red');
      expect(blue).toBeLessThanOrEqual(yellow);
      expect(yellow).toBeLessThanOrEqual(orange);
      expect(orange).toBeLessThanOrEqual(red);
      expect(Number.isFinite(red), g).toBe(true);
      expect(of(cloudburst, 'rainfall-24h', g)[0].level).toBe('heavy-rainstorm');
    }
  });

  it('every rain grade clears within its own window after the rain stops', () => clearsInTime(cloudburst));

  it('storm pipes surcharge up to red (water within 1 m of the street) and drain again; the sewers stay within design', () => {
    const storm = cloudburst.alerts.filter((a) => a.rule === 'storm-pipe-level');
    expect(storm.length).toBeGreaterThanOrEqual(5);
    expect(storm.some((a) => a.level === 'red')).toBe(true);
    expect(storm.every((a) => a.cleared !== undefined)).toBe(true);
    expect(cloudburst.alerts.filter((a) => a.rule === 'sewer-level')).toEqual([]);
  });

  it('the pump cannot keep up: "pump ineffective" while it runs and the sump still rises, cleared once the storm has passed', () => {
    const pump: AlertRecord[] = cloudburst.alerts.filter((a) => a.rule === 'pump-ineffective');
    expect(pump).toMatchObject([{ zone: 'sump-1', severity: 'critical' }]);
    expect(pump[0].cleared).toBeDefined();
    const on = cloudburst.actuations.find((a) => a.type === 'pump' && a.action === 'on' && a.ts <= pump[0].raised);
    expect(on?.acked).toBeDefined();
  });
});
