import { describe, expect, it } from 'vitest';
import { parseBenchArgs, UsageError } from '../../bench/cli.js';
import { sizesFor } from '../../bench/sizes.js';

describe('npm run bench command line', () => {
  it('runs every scenario but the soak, three runs each, by default', () => {
    const o = parseBenchArgs([]);
    expect(o).toMatchObject({ scenario: 'all', runs: 3, quick: false, out: 'bench-results', profile: false, stores: ['embedded', 'influx'], refs: true });
    const s = sizesFor(o);
    expect(s).toMatchObject({ devices: 1000, rulesRates: [1000, 5000], dashboardClients: 200, memoryDevices: 10_000, soakDevices: 2000, soakMs: 30 * 60_000 });
  });

  it('makes --quick small and single-run unless --runs says otherwise', () => {
    const quick = parseBenchArgs(['pipeline', '--quick']);
    expect(quick.runs).toBe(1);
    expect(sizesFor(quick).devices).toBeLessThan(100);
    expect(parseBenchArgs(['--quick', '--runs', '3']).runs).toBe(3);
  });

  it('applies --duration to the measured phases, or to the whole soak', () => {
    expect(sizesFor(parseBenchArgs(['rules', '--duration', '30s'])).rulesMs).toBe(30_000);
    expect(sizesFor(parseBenchArgs(['rules', '--duration', '12'])).rulesMs).toBe(12_000);
    expect(sizesFor(parseBenchArgs(['soak', '--duration', '10m'])).soakMs).toBe(600_000);
    expect(parseBenchArgs(['soak']).stores).toEqual(['embedded']);
  });

  it('refuses unknown scenarios and bad values with a message that says what to type', () => {
    expect(() => parseBenchArgs(['fast'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['fast'])).toThrow(/choose one of broker, pipeline/);
    expect(() => parseBenchArgs(['--runs', '0'])).toThrow(/--runs must be a whole number/);
    expect(() => parseBenchArgs(['--store', 'postgres'])).toThrow(/embedded, influx or both/);
    expect(() => parseBenchArgs(['--duration', 'soon'])).toThrow(/--duration/);
    expect(() => parseBenchArgs(['--bogus'])).toThrow(/--help/);
  });
});
