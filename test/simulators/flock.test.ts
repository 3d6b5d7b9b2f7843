import { describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { createFarmSimulation, type SimOutput } from '../../simulators/farm-sim.js';
import { generateRegister } from '../../simulators/models/flock.js';
import { parseTag } from '../../core/tags.js';

const farm = loadFarmConfig('config/demo-farm.yaml');
// 00:00 in Hangzhou (UTC+8): the flock is in; out at 07:00, in at 17:30.
const START = Date.parse('2026-03-01T16:00:00Z');

type TagMsg = { device: string; payload: { ts: number; tags: string[]; direction: 'in' | 'out' } };
function day(faults: Parameters<typeof createFarmSimulation>[0]['faults'] = []) {
  const sim = createFarmSimulation({ farm, scenario: 'normal-day', seed: 3, startTs: START, faults, reportEverySec: 600 });
  const out: SimOutput[] = [];
  for (let h = 0; h < 24; h++) out.push(...sim.advance(3600));
  return { sim, tags: out.filter((m): m is SimOutput & TagMsg => m.channel === 'tags') as unknown as TagMsg[] };
}

describe('the simulated flock', () => {
  it('walks every shed out in the morning and in in the evening, read at its gate about one sheep a second', () => {
    const { tags } = day();
    const shed1 = tags.filter((m) => m.device === 'shed-1-gate');
    const hours = (dir: string) => [
      ...new Set(shed1.filter((m) => m.payload.direction === dir).map((m) => Math.floor(((m.payload.ts - START) / 3_600_000) * 10) / 10)),
    ];
    // The census at midnight (in), out from 07:00, in from 17:30; each pass takes a few minutes.
    expect(hours('out').every((h) => h >= 7 && h < 7.2)).toBe(true);
    expect(hours('in').every((h) => h < 0.2 || (h >= 17.5 && h < 17.7))).toBe(true);
    const reads = (dir: string) => shed1.filter((m) => m.payload.direction === dir).flatMap((m) => m.payload.tags);
    expect(new Set(reads('out')).size).toBe(320);
    expect(reads('in')).toHaveLength(640);
    expect(Math.max(...shed1.map((m) => m.payload.tags.length))).toBeLessThanOrEqual(4);
    for (const m of tags) for (const t of m.payload.tags) expect(parseTag(t).ok).toBe(true);
    expect(new Set(tags.map((m) => m.device))).toEqual(new Set(['shed-1-gate', 'shed-2-gate', 'shed-3-gate', 'shed-4-gate']));
  });

  it('misses some reads with missed-reads, and never reads an animal again once it lost its tag', () => {
    const missed = day([{ kind: 'missed-reads', device: 'shed-2-gate', probability: 0.1 }])
      .tags.filter((m) => m.device === 'shed-2-gate')
      .flatMap((m) => m.payload.tags);
    expect(missed.length).toBeGreaterThan(3 * 280 * 0.8);
    expect(missed.length).toBeLessThan(3 * 280 * 0.97);
    const lost = day([{ kind: 'lost-tag', device: 'shed-3-gate', fromSec: 6 * 3600 }]).tags.filter((m) => m.device === 'shed-3-gate');
    const after = new Set(lost.filter((m) => m.payload.ts > START + 6 * 3_600_000).flatMap((m) => m.payload.tags));
    const before = new Set(lost.filter((m) => m.payload.ts < START + 6 * 3_600_000).flatMap((m) => m.payload.tags));
    expect(before.size).toBe(300);
    expect(after.size).toBe(299);
  });

  it("generates a register of the sheds' sizes with valid, unique FDX-B tags", () => {
    const register = generateRegister(
      [
        { zone: 'shed-a', headCount: 300 },
        { zone: 'shed-b', headCount: 200 },
      ],
      5,
    );
    expect(register).toHaveLength(500);
    expect(new Set(register.map((a) => a.tag)).size).toBe(500);
    expect(register.filter((a) => a.group === 'rams').length).toBeGreaterThan(3);
    expect(register.every((a) => /^156\d{12}$/.test(a.tag))).toBe(true);
  });
});
