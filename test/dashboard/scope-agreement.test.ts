import { describe, expect, it } from 'vitest';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { FarmBus } from '../../core/events.js';
import { fillLevels } from '../../dashboard/site-view.js';
import { createRulesEngine } from '../../rules/engine.js';
import { createMemoryStore } from '../rules/memory-store.js';
import { testFarmConfig } from './fixtures.js';

/**
 * The dashboard grades a pipe's fill by the rule the rules engine runs for that pipe. Both ask rules/scope.ts;
 * this holds them to the same answer for every kind of scope (site, zone, kind, device, per zone), so a scoping
 * rule implemented a second time on either side (the dashboard once ignored scope.device) fails here.
 */
const scopes = [
  {},
  { site: 'city' },
  { site: 'huyang' },
  { zone: 'pipe-b' },
  { kind: 'drain' },
  { kind: 'shed' },
  { device: 'pipe-a-level' },
  { device: 'rain-1-gauge' },
  { site: 'city', device: 'pipe-b-level' },
];

describe('rule scoping: the dashboard and the rules engine agree', () => {
  it.each(scopes.flatMap((scope) => [[scope, 'device'] as const, [scope, 'zone'] as const]))('scope %j, one instance per %s', async (scope, per) => {
    const rule = {
      id: 'graded-fill',
      scope,
      ...(per === 'zone' ? { per: 'zone' } : {}),
      when: { metric: 'fill', levels: [{ name: 'red', above: 40 }] },
      actions: [{ alert: { severity: 'critical' } }],
    };
    const config = testFarmConfig({ rules: [rule] });
    const farm = indexFarm(config);
    const engine = createRulesEngine({ config, farm, bus: new FarmBus(), store: createMemoryStore(), logger: silentLogger(), publish: async () => {} });
    await engine.start();
    try {
      const runs = new Set(engine.instanceStates('graded-fill').map((i) => i.key.split('|')[1].split('/').slice(0, 2).join('/')));
      for (const zone of farm.zones()) {
        const graded = fillLevels(config.rules, zone).some((l) => l.above === 40);
        expect(
          graded,
          `${zone.site}/${zone.zone}: the dashboard ${graded ? 'grades' : 'does not grade'} it by the rule, the engine ${runs.has(`${zone.site}/${zone.zone}`) ? 'runs' : 'does not run'} it there`,
        ).toBe(runs.has(`${zone.site}/${zone.zone}`));
      }
    } finally {
      await engine.stop();
    }
  });
});
