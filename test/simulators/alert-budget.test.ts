import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioReport } from '../../simulators/report.js';
import { isFault, scenarioReport } from './report-run.js';

/**
 * The alert budget (issue 13): in a typical Hangzhou July week the demo farm played against the whole service
 * raises at most one alert per zone and local day, faults apart (normal-day: normal-day-budget.test.ts). An alert
 * that fires every few hours for the weather is one an operator mutes. Whole farm (sheds, fields, drains), reports
 * every 5 simulated minutes, from the service's own events.
 */
let week: ScenarioReport;

// A simulated week of the whole farm takes 2 to 12 minutes here, depending on what else the machine runs.
beforeAll(async () => {
  week = await scenarioReport('summer-week');
}, 1_800_000);

const zoneDays = (r: ScenarioReport) => {
  const counts = new Map<string, number>();
  for (const a of r.alerts.filter((x) => !isFault(x))) {
    const key = `${a.site}/${a.zone} ${a.raisedLocal.slice(0, 10)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
};

describe('alert budget: summer-week', () => {
  it('played every reading: no stalls, no rejects, no faults', () => {
    expect(week.runner).toMatchObject({ stalls: 0, errors: 0, rejected: 0 });
    expect(week.alerts.filter(isFault)).toEqual([]);
    expect(week.endLocal).toBe('2021-07-12T00:00:00+08:00');
  });

  it('no zone raises more than one alert a day; the heat is one alert per shed for the hot spell, not one per afternoon', () => {
    expect([...zoneDays(week)].filter(([, n]) => n > 1)).toEqual([]);
    expect(week.budget.maxPerZoneDay).toBeLessThanOrEqual(1);
    const heat = week.alerts.filter((a) => a.rule === 'shed-heat-stress');
    expect(new Set(heat.map((a) => a.zone))).toEqual(new Set(['shed-1', 'shed-2', 'shed-3', 'shed-4']));
    for (const zone of ['shed-1', 'shed-2', 'shed-3', 'shed-4']) expect(heat.filter((a) => a.zone === zone).length, zone).toBeLessThanOrEqual(2);
    // What the alert says: THI-hours above the group's comfort in 24 h, with a level
    expect(heat[0]).toMatchObject({ level: expect.stringMatching(/^(severe|extreme)$/) });
    // Fans ran through the week (they were commanded on and acknowledged); the sump kept its own cycle without alerts
    expect(week.actuations.filter((a) => a.type === 'fan' && a.action === 'on').every((a) => a.acked !== undefined)).toBe(true);
    expect(week.actuations.filter((a) => a.type === 'pump').length).toBeGreaterThan(6);
    expect(week.alerts.filter((a) => a.zone === 'sump-1')).toEqual([]);
  });
});
