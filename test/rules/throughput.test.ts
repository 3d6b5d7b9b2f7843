import { describe, expect, it } from 'vitest';
import { FarmConfig } from '../../core/config/schema.js';
import type { Reading } from '../../core/domain.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createRulesEngine } from '../../rules/engine.js';
import { createFakeClock } from './fake-clock.js';
import { createMemoryStore } from './memory-store.js';

describe('throughput', () => {
  // Timing on a shared CI machine: a preempted run is retried rather than trusted.
  it('evaluates a reading against hundreds of rules fast enough for 1,000 readings/s (p99 under 10 ms)', { retry: 2 }, async () => {
    const sheds = 100;
    const zones = Array.from({ length: sheds }, (_, i) => ({
      id: `shed-${i}`,
      kind: 'shed',
      devices: [
        { id: `env-${i}`, role: 'sensor', secret: 'dev-only-secret' },
        { id: `fan-${i}`, role: 'actuator', type: 'fan' },
      ],
    }));
    // 300 rules: one per shed and metric, plus farm-wide windowed ones.
    const rules = [
      ...zones.flatMap((z, i) => [
        { id: `nh3-${i}`, scope: { zone: z.id }, when: { metric: 'nh3', above: 20, for: '30s', clearBelow: 15 }, actions: [{ actuate: { type: 'fan', action: 'on' } }, { alert: { severity: 'warning' } }] },
        { id: `heat-${i}`, scope: { zone: z.id }, when: { metric: 'thi', above: 25.6, clearBelow: 24 }, actions: [{ actuate: { type: 'fan', action: 'on' } }] },
      ]),
      ...Array.from({ length: 100 }, (_, i) => ({ id: `co2-${i}`, scope: { kind: 'shed' }, when: { metric: 'co2', window: '10m', agg: 'mean', above: 3000 + i }, actions: [{ alert: { severity: 'info' } }] })),
    ];
    const config = FarmConfig.parse({ sites: [{ id: 'farm', zones }], rules });
    const clock = createFakeClock(Date.UTC(2024, 0, 1));
    const bus = new FarmBus();
    const engine = createRulesEngine({ config, farm: indexFarm(config), bus, store: createMemoryStore(), clock, logger: silentLogger(), publish: async () => {} });
    await engine.start();
    const times: number[] = [];
    for (let n = 0; n < 3000; n++) {
      const i = n % sheds;
      clock.set(clock.now() + 1); // 1,000 readings a second
      const r: Reading = { site: 'farm', zone: `shed-${i}`, kind: 'shed', device: `env-${i}`, ts: clock.now(), metrics: { nh3: 10 + (n % 30), temperature: 20 + (n % 15), humidity: 70, co2: 2000 + (n % 2000) } };
      const t = performance.now();
      bus.emit('reading', r);
      times.push(performance.now() - t);
    }
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    times.sort((a, b) => a - b);
    const p99 = times[Math.floor(times.length * 0.99)];
    expect(mean).toBeLessThan(1); // under 1 ms each: 1,000 readings/s leave the CPU mostly free
    expect(p99).toBeLessThan(10);
    await engine.stop();
  });
});
