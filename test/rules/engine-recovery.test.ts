import { describe, expect, it } from 'vitest';
import { createFakeClock } from './fake-clock.js';
import { harness, HOUR, MIN, T0 } from './helpers.js';
import { createMemoryStore } from './memory-store.js';

const highWater = {
  id: 'high-water',
  scope: { kind: 'drain', zone: 'pipe-1' },
  when: { metric: 'fill', above: 60, for: '6h', clearBelow: 50 },
  actions: [{ alert: { severity: 'warning', message: 'long-term high water in {zone}' } }],
};
const ammonia = {
  id: 'shed-ammonia',
  scope: { kind: 'shed' },
  when: { metric: 'nh3', above: 20, clearBelow: 15 },
  actions: [{ actuate: { type: 'fan', action: 'on' } }, { alert: { severity: 'warning' } }],
};

describe('restart recovery', () => {
  it('a 6 h condition already 5 h true before a restart fires after 1 more hour, not 6', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    const first = harness([highWater], { store, clock });
    await first.engine.start();
    for (let t = T0; t < T0 + 5 * HOUR; t += 10 * MIN) {
      clock.set(t);
      first.send('pipe-1-level', { fill: 70 });
    }
    clock.set(T0 + 5 * HOUR);
    expect(first.alerts().filter((a) => a.rule === 'high-water')).toEqual([]);
    await first.engine.stop();

    const second = harness([highWater], { store, clock });
    await second.engine.start();
    const fired = () => second.alerts().filter((a) => a.rule === 'high-water');
    for (let t = T0 + 5 * HOUR; t <= T0 + 7 * HOUR && fired().length === 0; t += 10 * MIN) {
      clock.set(t);
      second.send('pipe-1-level', { fill: 70 });
    }
    expect(fired()).toMatchObject([{ rule: 'high-water', state: 'raised', ts: T0 + 6 * HOUR }]);
    await second.engine.stop();
  });

  it('open alerts and the actuators they hold survive a restart; a later clear ends the same alert', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    const first = harness([ammonia], { store, clock });
    await first.engine.start();
    first.send('shed-2-env', { nh3: 30 });
    first.ackAll();
    const raised = first.alerts()[0];
    first.engine.acknowledge(raised.id, 'ops');
    await first.engine.stop();

    clock.advance(2 * MIN);
    const second = harness([ammonia], { store, clock });
    await second.engine.start();
    expect(second.engine.activeAlerts()).toMatchObject([{ id: raised.id, state: 'acknowledged', by: 'ops' }]);
    expect(second.engine.actuators().find((a) => a.device === 'shed-2-fan')!.holders).toMatchObject([{ kind: 'rule', rule: 'shed-ammonia' }]);
    second.ackAll();
    second.send('shed-2-env', { nh3: 10 });
    expect(second.alerts().at(-1)).toMatchObject({ id: raised.id, state: 'cleared' });
    expect(second.commands('shed-2-fan').at(-1)).toMatchObject({ action: 'off', reason: 'rule:shed-ammonia' });
    await second.engine.stop();
  });

  it('an alert whose condition ended while the service was down is cleared at start', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    const first = harness([ammonia], { store, clock });
    await first.engine.start();
    first.send('shed-2-env', { nh3: 30 });
    await first.engine.stop();
    clock.advance(MIN);
    await store.writeReadings([{ site: 'huyang', zone: 'shed-2', kind: 'shed', device: 'shed-2-env', ts: clock.now(), metrics: { nh3: 5 } }]);
    clock.advance(MIN);

    const second = harness([ammonia], { store, clock });
    await second.engine.start();
    expect(second.engine.activeAlerts()).toEqual([]);
    expect(second.alerts()).toMatchObject([{ state: 'cleared', message: expect.stringMatching(/no longer held/) }]);
    await second.engine.stop();
  });

  it('with no recent data an open alert is adopted and cleared by the ordinary clear path', async () => {
    const store = createMemoryStore();
    const clock = createFakeClock(T0);
    const first = harness([ammonia], { store, clock });
    await first.engine.start();
    first.send('shed-2-env', { nh3: 30 });
    await first.engine.stop();
    clock.advance(HOUR); // longer than recoverMinMs: the replay sees nothing

    const second = harness([ammonia], { store, clock });
    await second.engine.start();
    expect(second.engine.activeAlerts()).toHaveLength(1);
    second.send('shed-2-env', { nh3: 18 }); // under 20 but above clearBelow 15: still active
    expect(second.engine.activeAlerts()).toHaveLength(1);
    second.send('shed-2-env', { nh3: 12 });
    expect(second.engine.activeAlerts()).toEqual([]);
    await second.engine.stop();
  });
});
