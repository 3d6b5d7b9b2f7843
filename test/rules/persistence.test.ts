import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { createEntry, hold } from '../../rules/actuators.js';
import { keepForeign, restoreModes, SavedActuators, snapshotModes } from '../../rules/modes.js';
import { createBatchWriter } from '../../rules/persist.js';
import { chooseRules, savedRules } from '../../rules/saved-rules.js';
import { createStateFile } from '../../rules/state-file.js';
import { createFakeClock } from './fake-clock.js';
import { rule, SEC, T0 } from './helpers.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('state file under DATA_DIR', () => {
  it('saves and loads a value, and moves an unreadable file aside instead of failing the start', () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-state-'));
    const file = createStateFile(join(dir, 'actuators.json'), silentLogger(), (raw) => SavedActuators.parse(raw));
    expect(file.load()).toBeUndefined();
    file.save({ version: 2, actuators: { 'shed-1-fan': { mode: 'manual', until: T0, by: 'ops' } } });
    expect(file.load()).toEqual({ version: 2, actuators: { 'shed-1-fan': { mode: 'manual', until: T0, by: 'ops' } } });
    expect(readdirSync(dir)).toEqual(['actuators.json']); // no temporary file left behind
    writeFileSync(join(dir, 'actuators.json'), '{"version": 1, "actuators": {"shed-1-fan": {"mode": "sideways"}}}');
    expect(file.load()).toBeUndefined();
    expect(existsSync(join(dir, 'actuators.json'))).toBe(false);
    expect(readdirSync(dir)[0]).toMatch(/^actuators\.json\.unreadable-\d+$/);
  });
});

describe('actuator modes snapshot', () => {
  it('keeps manual mode, its expiry and an operator hold with its end, and leaves rule holds to be rebuilt', () => {
    const fan = createEntry('shed-1-fan');
    Object.assign(fan, { mode: 'manual', manualUntil: T0 + 60_000, manualBy: 'ops' });
    hold(fan, { kind: 'rule', rule: 'heat', instance: 'heat|huyang/shed-1/shed-1-env', want: { action: 'on' }, since: T0, metric: 'thi', reading: 26 });
    const spray = createEntry('shed-1-spray');
    hold(spray, { kind: 'operator', user: 'ops', want: { action: 'set', value: 40 }, since: T0, until: T0 + 30 * 60_000 });
    const untouched = createEntry('shed-2-fan');
    const saved = snapshotModes([fan, spray, untouched]);
    expect(saved).toEqual({
      version: 2,
      actuators: {
        'shed-1-fan': { mode: 'manual', until: T0 + 60_000, by: 'ops' },
        'shed-1-spray': { mode: 'auto', hold: { user: 'ops', action: 'set', value: 40, since: T0, until: T0 + 30 * 60_000 } },
      },
    });
    const ledger = new Map([
      ['shed-1-fan', createEntry('shed-1-fan')],
      ['shed-1-spray', createEntry('shed-1-spray')],
    ]);
    const parsed = SavedActuators.parse(JSON.parse(JSON.stringify({ version: 2, actuators: { ...saved.actuators, 'gone-fan': { mode: 'manual' } } })));
    expect(restoreModes(ledger, parsed, T0 + 60_000, 30 * 60_000)).toEqual(['gone-fan']);
    expect(ledger.get('shed-1-fan')).toMatchObject({ mode: 'manual', manualUntil: T0 + 60_000, manualBy: 'ops' });
    expect(ledger.get('shed-1-fan')!.holds.size).toBe(0);
    expect([...ledger.get('shed-1-spray')!.holds.values()]).toEqual([
      { kind: 'operator', user: 'ops', want: { action: 'set', value: 40 }, since: T0, until: T0 + 30 * 60_000 },
    ]);
  });

  it('reads a version 1 file, whose holds had no end: they end operatorHold after the start', () => {
    const v1 = {
      version: 1,
      actuators: { 'shed-1-spray': { mode: 'auto', holds: { 'manual:ops': { action: 'on' } } }, 'shed-1-fan': { mode: 'manual', by: 'ops' } },
    };
    const parsed = SavedActuators.parse(v1);
    expect(parsed).toEqual({
      version: 2,
      actuators: { 'shed-1-spray': { mode: 'auto', hold: { user: 'ops', action: 'on' } }, 'shed-1-fan': { mode: 'manual', by: 'ops' } },
    });
    const ledger = new Map([
      ['shed-1-fan', createEntry('shed-1-fan')],
      ['shed-1-spray', createEntry('shed-1-spray')],
    ]);
    restoreModes(ledger, parsed, T0, 30 * 60_000);
    expect([...ledger.get('shed-1-spray')!.holds.values()]).toEqual([
      { kind: 'operator', user: 'ops', want: { action: 'on', value: undefined }, since: T0, until: T0 + 30 * 60_000 },
    ]);
  });
});

describe('modes shared by rules processes of different sites', () => {
  it("each process rewrites its own actuators and keeps the others' entries", () => {
    const previous = { version: 2 as const, actuators: { 'pipe-pump': { mode: 'manual' as const, by: 'ops' }, 'shed-1-fan': { mode: 'manual' as const } } };
    const mine = { version: 2 as const, actuators: {} }; // shed-1-fan went back to auto in this process
    expect(keepForeign(mine, previous, (d) => d.startsWith('shed-'))).toEqual({ version: 2, actuators: { 'pipe-pump': { mode: 'manual', by: 'ops' } } });
  });
});

describe('rules replaced over the API, at the next start', () => {
  const file = [rule({ id: 'nh3', when: { metric: 'nh3', above: 20 } })];
  const replaced = [rule({ id: 'nh3', when: { metric: 'nh3', above: 15 } })];

  it('are used while the farm file still has the rules they replaced', () => {
    expect(chooseRules(file, savedRules(file, replaced, T0))).toEqual({ source: 'api', rules: replaced, savedAt: T0 });
    expect(chooseRules(file, undefined)).toEqual({ source: 'file', rules: file });
  });

  it('give way once the rules in the farm file were edited, or when they no longer validate', () => {
    const edited = [rule({ id: 'nh3', when: { metric: 'nh3', above: 25 } })];
    expect(chooseRules(edited, savedRules(file, replaced, T0))).toEqual({ source: 'file', rules: edited, ignored: 'file-changed' });
    const broken = { ...savedRules(file, replaced, T0), rules: [{ id: 'nh3', when: { metric: 'nh4', above: 1 } }] };
    expect(chooseRules(file, broken)).toMatchObject({ source: 'file', ignored: 'invalid', problem: expect.stringMatching(/rule "nh3": unknown metric/) });
  });
});

describe('alert and command history writer', () => {
  it('keeps what the store refused and writes it once the store is back, without waiting for a new event', async () => {
    const clock = createFakeClock(T0);
    const written: number[] = [];
    let down = true;
    const writer = createBatchWriter<number>(
      async (items) => {
        if (down) throw new Error('database is locked');
        written.push(...items);
      },
      silentLogger(),
      'alerts',
      { clock },
    );
    writer.push(1);
    writer.push(2);
    await writer.flush();
    expect(written).toEqual([]);
    expect(writer.backlog()).toBe(2);
    clock.advance(SEC); // first retry after 1 s: still down
    await writer.flush();
    expect(writer.backlog()).toBe(2);
    down = false;
    clock.advance(SEC); // the next retry waits 2 s
    expect(written).toEqual([]);
    clock.advance(SEC);
    await writer.flush();
    expect(written).toEqual([1, 2]);
    expect(writer.backlog()).toBe(0);
  });
});
