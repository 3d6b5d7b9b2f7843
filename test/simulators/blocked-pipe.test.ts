import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioReport } from '../../simulators/report.js';
import { scenarioReport } from './report-run.js';

/**
 * blocked-pipe against the whole service and the demo rules (drainage site, eleven simulated days): nine clean days
 * (one shower) from which the silting rule learns every pipe's dry-weather level by local hour, then one pipe,
 * chosen by the seed, silts up on the tenth morning. It must be found within 48 h, and no other pipe.
 */
let r: ScenarioReport;

beforeAll(async () => {
  r = await scenarioReport('blocked-pipe', { sites: ['xihu-drain'] });
}, 1_200_000);

describe('blocked-pipe against the demo rules', () => {
  it('the silted pipe is found within 48 h of the silting, against its own learned level; no other pipe is', () => {
    expect(r.runner).toMatchObject({ stalls: 0, errors: 0, rejected: 0 });
    const silted = r.facts.silting!;
    expect(silted).toBeDefined();
    const found = r.alerts.filter((a) => a.rule === 'drain-silting');
    expect(found.map((a) => a.zone)).toEqual([silted.zone]);
    expect(found[0].raised - silted.fromTs).toBeLessThanOrEqual(48 * 3_600_000);
    expect(found[0].raised - silted.fromTs).toBeGreaterThanOrEqual(6 * 3_600_000); // `for: 6h`: a passing slug is not silt
    expect(found[0].message).toMatch(/stands [\d.]+ m above its usual dry-weather level: inspect for silt or a blockage$/);
    expect(found[0].cleared).toBeUndefined(); // nobody dredged it
  });

  it("nothing else is raised: the shower and nine days of sewage peaks are the pipes' normal", () => {
    expect(r.alerts.filter((a) => a.rule !== 'drain-silting')).toEqual([]);
  });
});
