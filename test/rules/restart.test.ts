import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import type { Store } from '../../store/store.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';
import { harness, HOUR, MIN, SEC, T0, type Harness } from './helpers.js';

/**
 * What the rules engine must not forget when the process dies without a word (kill -9): here the engine is
 * abandoned without stop() and without closing its SQLite store, and a new engine starts on the same DATA_DIR
 * (a new store connection, a new clock continuing the time). test/reliability covers the real kill -9 of
 * the service process; these tests pin down each piece of state on its own.
 */
const heat = {
  id: 'heat',
  scope: { kind: 'shed' },
  when: { metric: 'temperature', above: 30, clearBelow: 28 },
  actions: [{ actuate: { type: 'fan', action: 'on' } }],
};
const co2 = {
  id: 'co2',
  scope: { kind: 'shed' },
  when: { metric: 'co2', above: 3000, clearBelow: 2500 },
  actions: [{ actuate: { type: 'fan', action: 'on' } }],
};
const ammonia = {
  id: 'shed-ammonia',
  scope: { kind: 'shed' },
  when: { metric: 'nh3', above: 20, clearBelow: 15 },
  actions: [{ actuate: { type: 'fan', action: 'on' } }, { alert: { severity: 'warning', message: 'Ammonia {value} ppm in {zone}' } }],
};
const highWater = {
  id: 'high-water',
  scope: { zone: 'pipe-1' },
  when: { metric: 'fill', above: 60, for: '6h', clearBelow: 50 },
  actions: [{ alert: { severity: 'warning', message: 'long-term high water in {zone}' } }],
};

let dir: string;
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An engine on a real SQLite store under `dataDir`, started; `clock` continues where the previous one stopped. */
async function boot(rules: unknown[], at: number, dataDir = dir): Promise<{ h: Harness; store: Store; clock: FakeClock }> {
  const store = createSqliteStore({ dataDir, logger: silentLogger() });
  await store.init();
  stores.push(store);
  const clock = createFakeClock(at);
  const h = harness(rules, { store, clock, stateDir: dataDir });
  await h.engine.start();
  return { h, store, clock };
}

/** Lets the writes queued by the last evaluation reach the store, as they do a moment after any event. */
const settle = () => new Promise((r) => setImmediate(r));

describe('state that survives a kill -9 of the rules engine', () => {
  it("manual mode with its expiry and an operator's hold with its end survive; at their ends the rules take the actuators back", async () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-restart-'));
    const first = await boot([heat], T0);
    first.h.engine.setMode('shed-2-fan', 'manual', T0 + 30 * MIN, 'ops');
    first.h.engine.command('shed-1-fan', 'on', undefined, 'ops'); // auto mode, held on by the operator for operatorHold (30 min)
    first.h.ackAll();
    first.h.send('shed-2-env', { temperature: 32 }); // the rule wants shed-2's fan on, but it is manual
    expect(first.h.commands('shed-2-fan')).toEqual([]);
    await settle();

    const second = await boot([heat], T0 + 5 * MIN);
    const view = (d: string) => second.h.engine.actuators().find((a) => a.device === d)!;
    expect(view('shed-2-fan')).toMatchObject({ mode: 'manual', manualUntil: T0 + 30 * MIN });
    expect(view('shed-1-fan')).toMatchObject({
      mode: 'auto',
      holders: [{ kind: 'operator', user: 'ops', action: 'on', since: T0, until: T0 + 30 * MIN, decides: true }],
    });
    expect(second.h.commands()).toEqual([]); // nothing switched: shed-1's fan stays on for the operator, shed-2's is manual
    second.h.send('shed-2-env', { temperature: 33 });
    second.clock.set(T0 + 29 * MIN);
    expect(second.h.commands('shed-2-fan')).toEqual([]);
    second.clock.set(T0 + 30 * MIN);
    expect(view('shed-2-fan').mode).toBe('auto');
    expect(second.h.commands('shed-2-fan')).toMatchObject([{ action: 'on', reason: 'rule:heat' }]);
    // shed-1's sensor has been silent since the restart: its fail-safe holds the fan on once the operator's hold ended.
    expect(view('shed-1-fan').holders).toMatchObject([{ kind: 'failsafe', zone: 'shed-1', decides: true }]);
    await settle();

    // The expiry is itself durable: a third start does not make the fan manual again.
    const third = await boot([heat], T0 + 31 * MIN);
    expect(third.h.engine.actuators().find((a) => a.device === 'shed-2-fan')!.mode).toBe('auto');
  });

  it('a condition sustained for 5 of the 6 hours a rule asks for fires 1 hour after the restart, not 6', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-restart-'));
    const first = await boot([highWater], T0);
    for (let t = T0; t < T0 + 5 * HOUR; t += 10 * MIN) {
      first.clock.set(t);
      first.h.send('pipe-1-level', { fill: 70 });
    }
    const highWaterAlerts = (h: Harness) => h.alerts().filter((a) => a.rule === 'high-water');
    expect(highWaterAlerts(first.h)).toEqual([]);
    await settle();

    const second = await boot([highWater], T0 + 5 * HOUR);
    for (let t = T0 + 5 * HOUR; t <= T0 + 7 * HOUR && highWaterAlerts(second.h).length === 0; t += 10 * MIN) {
      second.clock.set(t);
      second.h.send('pipe-1-level', { fill: 70 });
    }
    expect(highWaterAlerts(second.h)).toMatchObject([{ rule: 'high-water', state: 'raised', ts: T0 + 6 * HOUR }]);
  });

  it('open alerts keep their id and acknowledgement, the command history is kept, and the next clear ends the same alert', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-restart-'));
    const first = await boot([ammonia], T0);
    first.h.send('shed-2-env', { nh3: 30 });
    first.clock.advance(SEC);
    first.h.ackAll();
    const raised = first.h.alerts()[0];
    first.h.engine.acknowledge(raised.id, 'ops');
    await settle();

    const second = await boot([ammonia], T0 + 2 * MIN);
    expect(second.h.engine.activeAlerts()).toMatchObject([{ id: raised.id, state: 'acknowledged', by: 'ops' }]);
    expect(second.h.commands()).toEqual([]); // the fan is on and still held: no command at start
    const history = await second.store.commands({ device: 'shed-2-fan', from: T0 - 1, to: T0 + HOUR });
    expect(history.reverse().map((r) => `${r.command.action}:${r.outcome}`)).toEqual(['on:sent', 'on:acked']);
    second.h.send('shed-2-env', { nh3: 10 });
    expect(second.h.alerts()).toMatchObject([{ id: raised.id, state: 'cleared' }]);
    expect(second.h.commands('shed-2-fan')).toMatchObject([{ action: 'off', reason: 'rule:shed-ammonia' }]);
    await second.h.engine.flush();
    const stored = await second.store.alerts({ from: T0 - 1, to: T0 + HOUR });
    expect(stored.reverse().map((e) => `${e.id === raised.id}:${e.state}`)).toEqual(['true:raised', 'true:acknowledged', 'true:cleared']);
  });

  it('an actuator a rule switched on is switched off at start when the condition ended while the service was down', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-restart-'));
    const first = await boot([co2], T0);
    first.h.send('shed-2-env', { co2: 3500 }); // no alert: nothing but the command history remembers the fan
    first.h.ackAll();
    await settle();
    // While the service is down the shed airs out (a reading stored by another ingest, or resent by the device).
    await first.store.writeReadings([{ site: 'huyang', zone: 'shed-2', kind: 'shed', device: 'shed-2-env', ts: T0 + MIN, metrics: { co2: 1200 } }]);

    const second = await boot([co2], T0 + 2 * MIN);
    expect(second.h.commands('shed-2-fan')).toMatchObject([{ action: 'off', reason: 'rule:co2' }]);
  });

  it('a command sent but not acknowledged before the crash is sent again with the same id', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-restart-'));
    const first = await boot([co2], T0);
    first.h.send('shed-2-env', { co2: 3500 });
    const [sent] = first.h.commands('shed-2-fan');
    await settle();

    const second = await boot([co2], T0 + 2 * SEC);
    expect(second.h.commands('shed-2-fan')).toEqual([sent]);
    second.h.ack('shed-2-fan', sent);
    await second.h.engine.flush();
    const history = await second.store.commands({ device: 'shed-2-fan', from: T0 - 1, to: T0 + HOUR });
    expect(history.reverse().map((r) => `${r.command.id === sent.id}:${r.outcome}`)).toEqual(['true:sent', 'true:retried', 'true:acked']);
  });

  it('rules replaced over the API survive a restart until the farm file itself changes its rules', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-restart-'));
    const first = await boot([ammonia], T0);
    const stricter = { ...ammonia, when: { metric: 'nh3', above: 15, clearBelow: 10 } };
    expect(first.h.engine.replaceRules([stricter, heat])).toMatchObject({ ok: true });

    const second = await boot([ammonia], T0 + MIN);
    expect(second.h.engine.rules().map((r) => [r.id, r.when])).toEqual([
      ['shed-ammonia', { metric: 'nh3', above: 15, clearBelow: 10 }],
      ['heat', { metric: 'temperature', above: 30, clearBelow: 28 }],
    ]);
    second.h.send('shed-2-env', { nh3: 17 });
    expect(second.h.alerts()).toHaveLength(1); // the replaced threshold is the one in force

    // Someone edits the rules in the farm file: that newer, deliberate change wins.
    const third = await boot([ammonia, co2], T0 + 2 * MIN);
    expect(third.h.engine.rules().map((r) => r.id)).toEqual(['shed-ammonia', 'co2']);
  });

  it('a mode that cannot be saved is refused with a message saying what to do, and not applied', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-restart-'));
    const notADir = join(dir, 'occupied');
    writeFileSync(notADir, 'a file where DATA_DIR should be');
    const store = createSqliteStore({ dataDir: dir, logger: silentLogger() });
    await store.init();
    stores.push(store);
    const h = harness([heat], { store, stateDir: notADir });
    await h.engine.start();
    expect(() => h.engine.setMode('shed-2-fan', 'manual', undefined, 'ops')).toThrow(/DATA_DIR.*writable/);
    expect(h.engine.actuators().find((a) => a.device === 'shed-2-fan')!.mode).toBe('auto');
    expect(() => h.engine.command('shed-2-fan', 'on', undefined, 'ops')).toThrow(/cannot write/);
    expect(h.engine.actuators().find((a) => a.device === 'shed-2-fan')!.holders).toEqual([]);
    expect(h.commands('shed-2-fan')).toEqual([]);
    await h.engine.stop();
  });
});
