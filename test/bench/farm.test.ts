import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDeviceSpecs, loadFarm, ruleInstanceCount, scaledDemoFarm, scaledSensorSpecs, writeFarm } from '../../bench/farm.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-farm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('benchmark farms', () => {
  it('adds N load devices to the demo farm in a file the service accepts', () => {
    const { config } = writeFarm(dir, 'load', loadFarm(250));
    const bench = config.sites.find((s) => s.id === 'bench')!;
    expect(bench.zones.flatMap((z) => z.devices).filter((d) => d.id.startsWith('load-'))).toHaveLength(250);
    expect(loadDeviceSpecs(250)[249]).toMatchObject({ id: 'load-00249', topic: 'farm/bench/load-002/load-00249/telemetry' });
  });

  it('scales the demo farm so hundreds of rule instances are live, site-scoped rules copied per site', () => {
    const { config } = writeFarm(dir, 'scaled', scaledDemoFarm(5));
    expect(config.sites.map((s) => s.id)).toContain('xihu-drain-s5');
    expect(config.rules.find((r) => r.id === 'storm-pipe-level-s5')?.scope).toMatchObject({
      site: 'xihu-drain-s5',
      attributes: { type: 'pipe', sewer: 'storm' },
    });
    expect(config.rules.find((r) => r.id === 'drain-silting-s5')?.when).toMatchObject({
      baseline: { rain: ['rain-1-gauge-s5', 'rain-2-gauge-s5', 'rain-3-gauge-s5'] },
    });
    expect(ruleInstanceCount(config)).toBeGreaterThan(500);
    const sensors = scaledSensorSpecs(config, ['shed-1-env-s1']);
    expect(sensors.some((s) => s.id === 'shed-1-env-s1')).toBe(false);
    // each reading carries exactly one count metric, so the store count equals the readings sent
    for (const s of sensors)
      expect(
        s.metrics.filter((m) => ['temperature', 'fill', 'rain_mm'].includes(m)),
        s.id,
      ).toHaveLength(1);
  });
});
