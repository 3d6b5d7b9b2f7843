import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import type { FarmConfigT } from '../../core/config/schema.js';
import type { HolderView } from '../../core/domain.js';
import { waitFor } from '../helpers/ports.js';
import { DEMO_CONFIG } from '../helpers/service.js';
import { startLiveFarm, type LiveFarm } from './live.js';

/**
 * Issue 21, item 1: an operator's command on an automatic actuator is a hold with an end, announced when it
 * overrides a protective rule, and a shed's minimum ventilation holds whatever an operator commands. Over real
 * MQTT: the demo farm's shed-1 climate sensor and fan are real clients with their development secrets, the
 * operator uses the HTTP API, and the engine runs on a clock the test moves (30 minutes pass in a moment).
 */
const MIN = 60_000;
const demo = (): FarmConfigT => loadFarmConfig(DEMO_CONFIG);
/** The demo farm without its sheds' minimum-ventilation floors: what the engine did before floors existed. */
const withoutFloors = (): FarmConfigT => {
  const c = demo();
  for (const site of c.sites) for (const zone of site.zones) delete zone.floors;
  return c;
};

let farm: LiveFarm | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await farm?.stop();
  farm = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

type Actuators = { actuators: { device: string; mode: string; holders: HolderView[] }[] };
const holdersOf = async (f: LiveFarm, device: string) => {
  const ops = await f.api('ops', 'dev-only-operator');
  return (await ops.get<Actuators>('/api/actuators')).actuators.find((a) => a.device === device)!.holders;
};
const sentTo = (f: LiveFarm, device: string) => f.sent.filter((s) => s.device === device).map((s) => `${s.command.action}:${s.command.reason}`);

/** Ammonia above the demo rule's 20 ppm for its 30 s: the rule switches the fan on. */
async function ammoniaHigh(f: LiveFarm, ppm = 27) {
  const env = await f.sensor('shed-1-env');
  const fan = await f.actuator('shed-1-fan');
  await env.send({ nh3: ppm, temperature: 18, humidity: 60 });
  f.advance(30_000);
  await env.send({ nh3: ppm, temperature: 18, humidity: 60 });
  await waitFor(() => fan.commands.some((c) => c.reason === 'rule:shed-ammonia' && c.action === 'on') || undefined, 'the ammonia rule to switch the fan on');
  return { env, fan };
}

describe("an operator's command on an automatic actuator", () => {
  it('is a hold of operatorHold (30 min): the fan stays off while ammonia is high, ops are warned, then the rule takes the fan back', async () => {
    farm = await startLiveFarm(withoutFloors());
    const f = farm;
    const { env, fan } = await ammoniaHigh(f);
    const ops = await f.api('ops', 'dev-only-operator');
    const start = f.clock.now();

    const res = await ops.send<{ command: { action: string; reason: string }; hold: HolderView }>('POST', '/api/actuators/shed-1-fan/command', {
      action: 'off',
    });
    expect(res.status).toBe(202);
    expect(res.body.hold).toEqual({ kind: 'operator', user: 'ops', action: 'off', since: start, until: start + 30 * MIN, decides: true });
    expect(await fan.nth(2)).toMatchObject({ action: 'off', reason: 'manual:ops' });

    // Announced: the hold overrides the ammonia rule, which holds the fan on.
    const warned = await waitFor(() => f.alerts.find((a) => a.rule === 'system:hold' && a.state === 'raised'), 'the hold alert');
    expect(warned).toMatchObject({ device: 'shed-1-fan', zone: 'shed-1', severity: 'warning', metric: 'nh3', value: 27, level: null });
    expect(warned.message).toMatch(/^shed-1-fan held off by ops until \d\d:\d\d (UTC|GMT[+-]\d+) while shed-ammonia wants it on \(nh3 27\)$/);
    expect(warned.messages?.zh).toMatch(/^\S+ 由 ops 保持关闭至 \d\d:\d\d (UTC|GMT[+-]\d+)，而规则 shed-ammonia 要求开启$/);
    expect(f.holdEvents).toMatchObject([
      { change: 'start', device: 'shed-1-fan', overrides: ['shed-ammonia'], hold: { user: 'ops', action: 'off', until: start + 30 * MIN } },
    ]);
    // "Why is it off?": the operator decides until then; the rule, with what fired it, is waiting.
    expect(await holdersOf(f, 'shed-1-fan')).toEqual([
      { kind: 'operator', user: 'ops', action: 'off', since: start, until: start + 30 * MIN, decides: true },
      expect.objectContaining({ kind: 'rule', rule: 'shed-ammonia', sensor: 'shed-1-env', action: 'on', metric: 'nh3', reading: 27, decides: false }),
    ]);

    // Ammonia keeps rising for 29 minutes: the hold stands.
    const before = sentTo(f, 'shed-1-fan').length;
    for (let t = 1; t <= 29; t++) {
      f.advance(MIN);
      await env.send({ nh3: 27 + t / 10, temperature: 18, humidity: 60 });
    }
    expect(sentTo(f, 'shed-1-fan').slice(before)).toEqual([]);

    // At its end the rule takes the fan back, and the warning clears.
    f.advance(MIN);
    expect(await fan.nth(3)).toMatchObject({ action: 'on', reason: 'rule:shed-ammonia' });
    expect(f.alerts.filter((a) => a.rule === 'system:hold').map((a) => a.state)).toEqual(['raised', 'cleared']);
    // Why, in both languages.
    expect(f.alerts.filter((a) => a.rule === 'system:hold').at(-1)).toMatchObject({
      message: 'cleared: the hold on shed-1-fan ended',
      messages: { zh: '已解除：shed-1-fan 的保持已结束' },
    });
    expect(f.holdEvents.at(-1)).toMatchObject({ change: 'end', ended: 'expired', device: 'shed-1-fan' });
    expect(await holdersOf(f, 'shed-1-fan')).toMatchObject([{ kind: 'rule', rule: 'shed-ammonia', decides: true }]);
  });

  it('lasts forMinutes or until when the command says so, and the body is validated', async () => {
    farm = await startLiveFarm(withoutFloors());
    const f = farm;
    const fan = await f.actuator('shed-2-fan');
    const ops = await f.api('ops', 'dev-only-operator');
    const t0 = f.clock.now();
    const five = await ops.send<{ hold: HolderView }>('POST', '/api/actuators/shed-2-fan/command', { action: 'on', forMinutes: 5 });
    expect(five).toMatchObject({ status: 202, body: { hold: { until: t0 + 5 * MIN } } });
    await fan.nth(1);
    f.advance(5 * MIN - 1000);
    expect(sentTo(f, 'shed-2-fan')).toEqual(['on:manual:ops']);
    f.advance(1000);
    expect(await fan.nth(2)).toMatchObject({ action: 'off', reason: 'auto:hold-ended' }); // no rule wants it on

    const until = f.clock.now() + 2 * MIN;
    const iso = await ops.send<{ hold: HolderView }>('POST', '/api/actuators/shed-2-fan/command', {
      action: 'set',
      value: 40,
      until: new Date(until).toISOString(),
    });
    expect(iso).toMatchObject({ status: 202, body: { hold: { action: 'set', value: 40, until } } });
    const epoch = await ops.send<{ hold: HolderView }>('POST', '/api/actuators/shed-2-fan/command', { action: 'on', until: until + MIN });
    expect(epoch).toMatchObject({ status: 202, body: { hold: { until: until + MIN } } });
    // The newer command replaced the older hold.
    expect(f.holdEvents.filter((e) => e.device === 'shed-2-fan').map((e) => (e.change === 'end' ? `end:${e.ended}` : 'start'))).toEqual([
      'start',
      'end:expired',
      'start',
      'end:replaced',
      'start',
    ]);

    for (const [body, path] of [
      [{ action: 'off', forMinutes: 0 }, 'body.forMinutes'],
      [{ action: 'off', forMinutes: 7 * 24 * 60 + 1 }, 'body.forMinutes'],
      [{ action: 'off', until: '2020-01-01T00:00:00Z' }, 'body.until'],
      [{ action: 'off', until: 'tomorrow' }, 'body.until'],
      [{ action: 'off', until: new Date(until).toISOString(), forMinutes: 5 }, 'body'],
    ] as const) {
      const bad = await ops.send<{ error: string; problems: { path: string }[] }>('POST', '/api/actuators/shed-2-fan/command', body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.error).toBe('VALIDATION');
      expect(bad.body.problems.map((p) => p.path)).toContain(path);
    }
  });

  it('survives a restart with its end, and the rules take the actuator back at that end', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'farm-holds-'));
    farm = await startLiveFarm(withoutFloors(), { dataDir });
    const ops = await farm.api('ops', 'dev-only-operator');
    const t0 = farm.clock.now();
    expect((await ops.send('POST', '/api/actuators/shed-1-fan/command', { action: 'on', forMinutes: 10 })).status).toBe(202);
    await farm.stop();

    farm = await startLiveFarm(withoutFloors(), { dataDir, startTs: t0 + 3 * MIN });
    const f = farm;
    const fan = await f.actuator('shed-1-fan');
    expect(await holdersOf(f, 'shed-1-fan')).toEqual([{ kind: 'operator', user: 'ops', action: 'on', since: t0, until: t0 + 10 * MIN, decides: true }]);
    const env = await f.sensor('shed-1-env');
    await env.send({ nh3: 5, temperature: 18, humidity: 60 }); // keeps the shed out of fail-safe
    f.advance(7 * MIN - 1000);
    await env.send({ nh3: 5, temperature: 18, humidity: 60 });
    expect(sentTo(f, 'shed-1-fan')).toEqual([]);
    f.advance(1000);
    // (The fan may first get the 'on' sent before the restart again: it was never acknowledged.)
    await waitFor(() => fan.commands.find((c) => c.action === 'off' && c.reason === 'auto:hold-ended'), 'the off at the end of the hold');
  });
});

describe("a shed's minimum ventilation (demo farm floor)", () => {
  it('refuses an operator off while ammonia is high; manual mode is the explicit way out', async () => {
    farm = await startLiveFarm(demo());
    const f = farm;
    const { fan } = await ammoniaHigh(f);
    const ops = await f.api('ops', 'dev-only-operator');
    const before = sentTo(f, 'shed-1-fan').length;
    const refused = await ops.send<{ error: string; message: string }>('POST', '/api/actuators/shed-1-fan/command', { action: 'off' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('CONFLICT');
    expect(refused.body.message).toMatch(/shed-1 keeps at least 1 fan on while shed-ammonia is active \(floor "min-ventilation"\).*switch it to manual mode/);
    expect(sentTo(f, 'shed-1-fan').slice(before)).toEqual([]);
    expect(f.holdEvents).toEqual([]);

    await ops.send('POST', '/api/actuators/shed-1-fan/mode', { mode: 'manual', forMinutes: 20 });
    expect((await ops.send('POST', '/api/actuators/shed-1-fan/command', { action: 'off' })).status).toBe(202);
    expect(await fan.nth(2)).toMatchObject({ action: 'off', reason: 'manual:ops' });
    await ops.send('POST', '/api/actuators/shed-1-fan/mode', { mode: 'auto' });
    expect(await fan.nth(3)).toMatchObject({ action: 'on', reason: 'rule:shed-ammonia' });
  });

  it('overrides a hold given before ammonia rose: the fan goes on for the rule, and the hold waits below the floor', async () => {
    farm = await startLiveFarm(demo());
    const f = farm;
    const fan = await f.actuator('shed-1-fan');
    const env = await f.sensor('shed-1-env');
    await env.send({ nh3: 8, temperature: 18, humidity: 60 });
    const ops = await f.api('ops', 'dev-only-operator');
    expect((await ops.send('POST', '/api/actuators/shed-1-fan/command', { action: 'off', forMinutes: 60 })).status).toBe(202);
    expect(await fan.nth(1)).toMatchObject({ action: 'off', reason: 'manual:ops' });

    await env.send({ nh3: 27, temperature: 18, humidity: 60 });
    f.advance(30_000);
    await env.send({ nh3: 27, temperature: 18, humidity: 60 });
    expect(await fan.nth(2)).toMatchObject({ action: 'on', reason: 'rule:shed-ammonia' });
    expect((await holdersOf(f, 'shed-1-fan')).map((h) => `${h.kind}:${h.decides}`)).toEqual(['floor:true', 'operator:false', 'rule:false']);
    expect(f.alerts.filter((a) => a.rule === 'system:hold')).toEqual([]); // the hold is not in effect: nothing to warn about
  });
});
