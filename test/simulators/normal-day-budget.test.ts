import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioReport } from '../../simulators/report.js';
import { isFault, scenarioReport } from './report-run.js';

/**
 * The alert budget (issue 13) on an ordinary day: the whole demo farm against the whole service raises at most one
 * alert per zone in the day, faults apart, while the sheds, fields and sump do their work.
 */
let day: ScenarioReport;

beforeAll(async () => {
  day = await scenarioReport('normal-day');
}, 600_000);

describe('alert budget: normal-day', () => {
  it('no zone raises more than one alert in the day, and the sheds and the sump did their work', () => {
    expect(day.runner).toMatchObject({ stalls: 0, errors: 0, rejected: 0 });
    expect(day.alerts.filter(isFault)).toEqual([]);
    const perZone = new Map<string, number>();
    for (const a of day.alerts) perZone.set(a.zone, (perZone.get(a.zone) ?? 0) + 1);
    expect([...perZone].filter(([, n]) => n > 1)).toEqual([]);
    expect(day.budget.maxPerZoneDay).toBeLessThanOrEqual(1);
    const types = new Set(day.actuations.map((a) => a.type));
    expect(types).toContain('fan');
    expect(types).toContain('pump');
  });
});
