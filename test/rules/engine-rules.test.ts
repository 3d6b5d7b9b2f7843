import { afterEach, describe, expect, it } from 'vitest';
import { harness, HOUR, MIN, SEC, T0, type Harness } from './helpers.js';

const nh3 = {
  id: 'nh3',
  scope: { kind: 'shed' },
  when: { metric: 'nh3', above: 20, for: '30s', clearBelow: 15 },
  actions: [{ actuate: { type: 'fan', action: 'on' } }, { alert: { severity: 'warning' } }],
};
const heat = { id: 'heat', scope: { kind: 'shed' }, when: { metric: 'temperature', above: 30, for: '30s' }, actions: [{ alert: { severity: 'info' } }] };

let h: Harness | undefined;
afterEach(async () => {
  await h?.engine.stop();
  h = undefined;
});

async function started(rules: unknown[]): Promise<Harness> {
  h = harness(rules);
  await h.engine.start();
  return h;
}

describe('replacing rules at run time', () => {
  it('rejects an invalid rule set naming the rule and the field, and keeps the running rules', async () => {
    const h = await started([nh3]);
    const result = h.engine.replaceRules([nh3, { id: 'bad', when: { metric: 'nh3', above: 'high' }, actions: [{ alert: { severity: 'loud' } }] }]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual(
      expect.arrayContaining([
        { path: '[1].when.above', message: expect.stringMatching(/^rule "bad": .*number/) },
        { path: '[1].actions[0].alert.severity', message: expect.stringMatching(/^rule "bad": /) },
      ]),
    );
    expect(h.engine.rules().map((r) => r.id)).toEqual(['nh3']);
  });

  it('keeps the state of unchanged rules and starts changed ones over', async () => {
    const h = await started([nh3, heat]);
    h.send('shed-1-env', { nh3: 25, temperature: 35 });
    h.clock.advance(20 * SEC);
    const result = h.engine.replaceRules([nh3, { ...heat, when: { metric: 'temperature', above: 29, for: '30s' } }]);
    expect(result).toMatchObject({ ok: true, kept: ['nh3'], changed: ['heat'], removed: [] });
    h.clock.advance(10 * SEC);
    expect(h.alerts().map((a) => a.rule)).toEqual(['nh3']); // its 30 s ran on through the replace
    h.ackAll();
    h.send('shed-1-env', { temperature: 35 });
    h.clock.advance(30 * SEC);
    expect(h.alerts().map((a) => a.rule)).toEqual(['nh3', 'heat']);
  });

  it('a rule added at run time gets the next reading of a device that was already sending the same metrics', async () => {
    // The engine keeps each device's route (the instances its readings visit): adding a rule must renew it.
    const h = await started([nh3]);
    h.send('shed-1-env', { nh3: 5, temperature: 35 });
    expect(h.engine.replaceRules([nh3, heat])).toMatchObject({ ok: true });
    h.send('shed-1-env', { nh3: 5, temperature: 35 });
    h.clock.advance(30 * SEC);
    expect(h.alerts().map((a) => a.rule)).toEqual(['heat']);
    // ... and a removed one no longer does.
    expect(h.engine.replaceRules([nh3])).toMatchObject({ ok: true, removed: ['heat'] });
    h.send('shed-1-env', { nh3: 25, temperature: 40 });
    h.clock.advance(30 * SEC);
    expect(h.alerts().map((a) => `${a.rule}:${a.state}`)).toEqual(['heat:raised', 'heat:cleared', 'nh3:raised']);
  });

  it('an active rule that is edited keeps its alert and fan; a removed rule releases both', async () => {
    const h = await started([nh3]);
    h.send('shed-2-env', { nh3: 25 });
    h.clock.advance(30 * SEC);
    h.ackAll();
    const id = h.alerts()[0].id;
    const edited = { ...nh3, when: { ...nh3.when, clearBelow: 10 } };
    expect(h.engine.replaceRules([edited])).toMatchObject({ ok: true, changed: ['nh3'] });
    expect(h.commands('shed-2-fan').map((c) => c.action)).toEqual(['on']); // no off-and-on again
    expect(h.engine.activeAlerts().map((a) => a.id)).toEqual([id]);
    h.send('shed-2-env', { nh3: 12 }); // under the old clearBelow, not the new one
    expect(h.engine.activeAlerts()).toHaveLength(1);
    expect(h.engine.replaceRules([])).toMatchObject({ ok: true, removed: ['nh3'] });
    expect(h.commands('shed-2-fan').map((c) => c.action)).toEqual(['on', 'off']);
    expect(h.alerts().at(-1)).toMatchObject({ id, state: 'cleared', message: expect.stringMatching(/removed/) });
    expect(h.engine.actuators().find((a) => a.device === 'shed-2-fan')!.holders).toEqual([]);
  });
});

describe('dry run over stored history', () => {
  const fill = {
    id: 'pipe-fill',
    scope: { zone: 'pipe-1' },
    when: {
      metric: 'fill',
      levels: [
        { name: 'yellow', above: 50 },
        { name: 'orange', above: 70 },
      ],
      for: '1h',
    },
    actions: [{ actuate: { type: 'pump', action: 'on' } }, { alert: { severity: 'warning' } }],
  };

  it('lists what a rule would have done last week, without commanding or alerting anything', async () => {
    h = harness([]);
    const week = 7 * 24 * HOUR;
    const readings = [];
    for (let t = 0; t < week; t += 10 * MIN) {
      // Day 2: 60 % from 06:00 to 12:00; day 4: 80 % from 00:00 to 03:00.
      const hourOfWeek = t / HOUR;
      const fill = hourOfWeek >= 30 && hourOfWeek < 36 ? 60 : hourOfWeek >= 72 && hourOfWeek < 75 ? 80 : 20;
      readings.push({ site: 'city', zone: 'pipe-1', kind: 'drain' as const, device: 'pipe-1-level', ts: T0 + t, metrics: { fill } });
    }
    await h.store.writeReadings(readings);
    h.clock.set(T0 + week);
    await h.engine.start();
    const published = h.published.length;
    const result = await h.engine.dryRun(fill, T0, T0 + week);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.events.map((e) => [e.kind, e.level, (e.ts - T0) / HOUR])).toEqual([
      ['fired', 'yellow', 31],
      ['cleared', undefined, 36],
      ['fired', 'orange', 73],
      ['cleared', undefined, 75],
    ]);
    expect(result.events[0]).toMatchObject({ site: 'city', zone: 'pipe-1', device: 'pipe-1-level', value: 60 });
    expect(h.published.length).toBe(published);
    expect(h.engine.activeAlerts()).toEqual([]);
  });

  it('answers problems for an invalid rule', async () => {
    const h = await started([]);
    const result = await h.engine.dryRun({ id: 'x', when: { metric: 'fill', abovee: 3 }, actions: [] }, T0 - HOUR, T0);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['when', 'actions']));
    expect(await h.engine.dryRun(nh3, T0, T0 - MIN)).toMatchObject({ ok: false });
  });
});
