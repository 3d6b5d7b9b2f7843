import { describe, expect, it } from 'vitest';
import { createLateReadings } from '../../ingest/late.js';

/**
 * A device whose readings arrive stamped well before its newest (a clock set back, a second sped-up simulator run
 * against the same service) is stored but skipped by the rules: the service says so, once per device and period.
 */
const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);
const MIN = 60_000;

describe("readings older than a device's newest", () => {
  it('in order, or a little out of order (a minute), says nothing', () => {
    const late = createLateReadings();
    expect(late.check('shed-1-env', T0, T0)).toBeUndefined();
    expect(late.check('shed-1-env', T0 + MIN, T0)).toBeUndefined();
    expect(late.check('shed-1-env', T0 + 30_000, T0)).toBeUndefined();
  });

  it('a second run stamped hours before the newest: one warning naming the device, how far behind and why, then quiet for the period', () => {
    const late = createLateReadings({ everyMs: 10 * MIN });
    late.check('shed-1-env', T0, T0);
    const w = late.check('shed-1-env', T0 - 23 * 60 * MIN, T0 + 1000);
    expect(w).toMatchObject({ device: 'shed-1-env', newest: T0, behindMs: 23 * 60 * MIN, count: 1 });
    expect(w!.message).toBe(
      'readings of shed-1-env are stamped 23 h before its newest (2026-11-30T08:00:00.000Z): they are stored, but rules judge by the newest value and skip them until their stamps pass it. A device clock set back, or a second sped-up simulator run against this service (see simulators/README.md, "Time"): start the service on a fresh DATA_DIR, or run the simulator at --speed 1',
    );
    for (let i = 1; i <= 5; i++) expect(late.check('shed-1-env', T0 - 23 * 60 * MIN + i * MIN, T0 + i * MIN)).toBeUndefined();
    // After the period, again, with how many late messages came meanwhile.
    expect(late.check('shed-1-env', T0 - 22 * 60 * MIN, T0 + 11 * MIN)).toMatchObject({ count: 6 });
    // Other devices are judged on their own.
    expect(late.check('shed-2-env', T0 - 23 * 60 * MIN, T0)).toBeUndefined();
  });

  it('what the store held at start counts as the newest, so a run after a restart is judged the same', () => {
    const late = createLateReadings();
    late.seed([{ device: 'pipe-05-level', ts: T0 }]);
    expect(late.check('pipe-05-level', T0 - 3 * 60 * MIN, T0)).toMatchObject({ behindMs: 3 * 60 * MIN });
  });
});
