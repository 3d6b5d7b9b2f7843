import { describe, expect, it } from 'vitest';
import { FarmConfig } from '../../core/config/schema.js';
import { floorChoice, type FloorCandidate } from '../../rules/floors.js';

const fan = (device: string, o: Partial<FloorCandidate> = {}): FloorCandidate => ({
  device,
  mode: 'auto',
  onWithoutFloor: false,
  heldOffByOperator: false,
  ...o,
});

describe('floor choice', () => {
  it('holds nothing when not in force, or when enough fans already run', () => {
    expect(floorChoice(1, false, [fan('a')])).toEqual([]);
    expect(floorChoice(1, true, [fan('a', { onWithoutFloor: true }), fan('b')])).toEqual([]);
  });

  it('takes the missing fans, those nobody holds off first, then in the farm file order', () => {
    expect(floorChoice(1, true, [fan('a', { heldOffByOperator: true }), fan('b')])).toEqual(['b']);
    expect(floorChoice(2, true, [fan('a', { heldOffByOperator: true }), fan('b'), fan('c', { onWithoutFloor: true })])).toEqual(['b']);
    expect(floorChoice(1, true, [fan('a', { heldOffByOperator: true })])).toEqual(['a']); // overrides the hold: no other way
  });

  it('leaves fans in manual mode alone: manual is the way out of automation', () => {
    expect(floorChoice(1, true, [fan('a', { mode: 'manual' }), fan('b', { heldOffByOperator: true })])).toEqual(['b']);
    expect(floorChoice(1, true, [fan('a', { mode: 'manual' })])).toEqual([]);
  });
});

describe('floor configuration', () => {
  const farm = (floors: unknown[], rules: unknown[] = [{ id: 'nh3', when: { metric: 'nh3', above: 20 }, actions: [{ alert: { severity: 'warning' } }] }]) =>
    FarmConfig.safeParse({
      sites: [{ id: 's', zones: [{ id: 'shed-1', kind: 'shed', devices: [{ id: 'fan-1', role: 'actuator', type: 'fan' }], floors }] }],
      rules,
    });

  it('names an actuator type the zone does not have, and a duplicate floor id', () => {
    expect(farm([{ id: 'min-vent', type: 'fan', while: ['nh3'] }]).success).toBe(true);
    const bad = farm([
      { id: 'min-vent', type: 'shutter', while: ['nh3'] },
      { id: 'min-vent', type: 'fan', while: ['nh3'] },
    ]);
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['sites.0.zones.0.floors.0.type', 'zone shed-1 has no shutter for floor "min-vent": add one or change the type'],
      ['sites.0.zones.0.floors.1.id', 'duplicate floor id "min-vent" in zone shed-1'],
    ]);
  });

  it('defaults operatorHold to 30 minutes and keeps it between 1 minute and 7 days', () => {
    const base = { sites: [{ id: 's', zones: [{ id: 'z', kind: 'shed' }] }] };
    expect(FarmConfig.parse(base).operatorHold).toBe(30 * 60_000);
    expect(FarmConfig.parse({ ...base, operatorHold: '2h' }).operatorHold).toBe(2 * 3_600_000);
    expect(FarmConfig.safeParse({ ...base, operatorHold: '8d' }).success).toBe(false);
  });
});
