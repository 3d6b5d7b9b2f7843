import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmConfig } from '../../core/config/schema.js';
import type { AlertEvent } from '../../core/domain.js';
import { waitFor } from '../helpers/ports.js';
import type { Api } from '../reliability/api.js';
import { startLiveFarm, type LiveActuator, type LiveFarm, type LiveSensor } from './live.js';

/**
 * Issue 21, item 2: alert events and command records that tell the truth, seen the way a user sees them:
 * real MQTT devices against the whole service, the HTTP API as an operator, the events on the alert topic's
 * source (the bus). Each `it` uses its own zone, so they do not depend on each other's order.
 */
const SECRET = 'dev-only-secret';
const config = FarmConfig.parse({
  sites: [
    {
      id: 'farm',
      zones: [
        {
          id: 'shed-1',
          kind: 'shed',
          failsafe: { after: '10m', actuators: { fan: 'on' } },
          devices: [
            { id: 'shed-1-env', role: 'sensor', secret: SECRET },
            { id: 'shed-1-fan', role: 'actuator', type: 'fan', secret: SECRET },
          ],
        },
        {
          id: 'shed-2',
          kind: 'shed',
          devices: [
            { id: 'shed-2-env', role: 'sensor', secret: SECRET },
            { id: 'shed-2-fan', role: 'actuator', type: 'fan', secret: SECRET },
          ],
        },
        { id: 'pipe-1', kind: 'drain', devices: [{ id: 'pipe-1-level', role: 'sensor', secret: SECRET }] },
        { id: 'pipe-2', kind: 'drain', devices: [{ id: 'pipe-2-level', role: 'sensor', secret: SECRET }] },
      ],
    },
  ],
  users: [
    { name: 'ops', role: 'operator', password: 'dev-only-operator' },
    { name: 'admin', role: 'admin', password: 'dev-only-admin' },
  ],
  rules: [
    {
      id: 'pipe-surcharge',
      scope: { zone: 'pipe-1' },
      when: {
        any: [
          { metric: 'water_level', above: 3, clearBelow: 2.5 },
          { metric: 'flow', above: 800, clearBelow: 700 },
        ],
      },
      actions: [{ alert: { severity: 'warning', message: 'surcharge in {zone}: {metric} {value}' } }],
    },
    {
      id: 'pipe-fill',
      scope: { zone: 'pipe-2' },
      when: {
        metric: 'fill',
        levels: [
          { name: 'yellow', above: 50 },
          { name: 'orange', above: 70 },
          { name: 'red', above: 85, severity: 'critical' },
        ],
      },
      actions: [{ alert: { severity: 'warning', message: '{zone} at {value} % ({level})' } }],
    },
    {
      id: 'shed-heat',
      scope: { zone: 'shed-2' },
      when: { metric: 'temperature', above: 30, clearBelow: 28 },
      actions: [{ actuate: { type: 'fan', action: 'on' } }, { alert: { severity: 'warning', message: 'temp {value}' } }],
    },
    { id: 'shed-1-offline', scope: { zone: 'shed-1' }, when: { stale: '10m' }, actions: [{ alert: { severity: 'warning' } }] },
  ],
});

let farm: LiveFarm;
let ops: Api;
let admin: Api;
let pipe1: LiveSensor;
let pipe2: LiveSensor;
let shed2: LiveSensor;
let fan2: LiveActuator;
const of = (rule: string) => farm.alerts.filter((a) => a.rule === rule);

beforeAll(async () => {
  farm = await startLiveFarm(config);
  ops = await farm.api('ops', 'dev-only-operator');
  admin = await farm.api('admin', 'dev-only-admin');
  [pipe1, pipe2, shed2] = await Promise.all(['pipe-1-level', 'pipe-2-level', 'shed-2-env'].map((id) => farm.sensor(id)));
  fan2 = await farm.actuator('shed-2-fan');
});
afterAll(async () => {
  await farm?.stop();
});

describe('an any: rule reports the sub-condition that fired', () => {
  it('flow 900 with water level 1 raises "flow 900", and the dry run over the same readings says so too', async () => {
    const pipe = pipe1;
    const from = farm.clock.now();
    await pipe.send({ water_level: 1, flow: 500 });
    farm.advance(1000);
    await pipe.send({ water_level: 1, flow: 900 });
    const [raised] = of('pipe-surcharge');
    expect(raised).toMatchObject({ state: 'raised', metric: 'flow', value: 900, level: null, message: 'surcharge in pipe-1: flow 900' });
    farm.advance(1000);
    await pipe.send({ water_level: 1, flow: 650 });
    const cleared = of('pipe-surcharge')[1];
    expect(cleared).toMatchObject({ id: raised.id, state: 'cleared', metric: 'flow', value: 650 });

    await waitFor(
      async () => (await admin.get<{ values: unknown[] }>('/api/latest?device=pipe-1-level')).values.length > 0 || undefined,
      'the readings stored',
    );
    const rule = config.rules.find((r) => r.id === 'pipe-surcharge');
    const dry = await admin.send<{ events: { kind: string; metric?: string; value?: number }[] }>('POST', '/api/rules/dry-run', {
      rule,
      from: String(from - 1),
      to: String(farm.clock.now() + 1),
    });
    expect(dry.status).toBe(200);
    expect(dry.body.events.map((e) => [e.kind, e.metric, e.value])).toEqual([
      ['fired', 'flow', 900],
      ['cleared', 'flow', 650],
    ]);
  });
});

describe('a cleared event', () => {
  it('carries the clearing value and says it cleared, instead of repeating the raising message', async () => {
    const env = shed2;
    await env.send({ temperature: 31 });
    farm.advance(1000);
    await env.send({ temperature: 24 });
    const [raised, cleared] = of('shed-heat');
    expect(raised).toMatchObject({ state: 'raised', message: 'temp 31', value: 31, metric: 'temperature', level: null });
    expect(cleared).toMatchObject({ id: raised.id, state: 'cleared', value: 24, metric: 'temperature', level: null });
    expect(cleared.message).toBe('cleared: temp 24');
  });
});

describe('level and value are always there', () => {
  it('null where there is none: a stale sensor, an actuator that does not answer, the fail-safe', async () => {
    farm.advance(10 * 60_000);
    const offline = await waitFor(() => of('shed-1-offline')[0], 'the stale alert');
    const failsafe = await waitFor(() => of('system:failsafe')[0], 'the fail-safe alert');
    for (const e of [offline, failsafe]) {
      expect(e).toHaveProperty('level', null);
      expect(e).toHaveProperty('value', null);
      expect(e).toHaveProperty('metric', null);
    }
    // What the MQTT alert topic and the API carry is the same event: the keys are there with null.
    const active = await ops.get<{ alerts: AlertEvent[] }>('/api/alerts?state=active');
    const fromApi = active.alerts.find((a) => a.id === offline.id)!;
    expect(Object.keys(fromApi)).toEqual(expect.arrayContaining(['level', 'value', 'metric']));
  });
});

describe('acknowledgement and level changes', () => {
  it('an escalation to a worse level needs a new ack; a de-escalation keeps the ack', async () => {
    const pipe = pipe2;
    await pipe.send({ fill: 55 });
    const [raised] = of('pipe-fill');
    expect(raised).toMatchObject({ state: 'raised', level: 'yellow' });
    const ack = await ops.send<{ alert: AlertEvent }>('POST', `/api/alerts/${encodeURIComponent(raised.id)}/ack`, {});
    expect(ack.body.alert).toMatchObject({ state: 'acknowledged', by: 'ops', level: 'yellow' });

    farm.advance(1000);
    await pipe.send({ fill: 90 });
    const up = of('pipe-fill').at(-1)!;
    expect(up).toMatchObject({ state: 'escalated', level: 'red', severity: 'critical', value: 90 });
    expect(up.by).toBeUndefined(); // the yellow acknowledgement does not cover red
    await ops.send('POST', `/api/alerts/${encodeURIComponent(raised.id)}/ack`, {});

    farm.advance(1000);
    await pipe.send({ fill: 75 });
    const down = of('pipe-fill').at(-1)!;
    expect(down).toMatchObject({ state: 'acknowledged', by: 'ops', level: 'orange', value: 75 });
    expect(down.message).toMatch(/de-escalated to orange/);
    expect(of('pipe-fill').map((e) => `${e.state}:${e.level}`)).toEqual([
      'raised:yellow',
      'acknowledged:yellow',
      'escalated:red',
      'acknowledged:red',
      'acknowledged:orange',
    ]);
  });
});

describe('a late acknowledgement', () => {
  it('after "not responding" is recorded as acked in /api/commands and clears the alert', async () => {
    const [env, fan] = [shed2, fan2];
    fan.holdAcks = true;
    const before = fan.commands.length;
    await env.send({ temperature: 33 });
    const command = await fan.nth(before + 1);
    for (let i = 0; i < 3; i++) farm.advance(5000); // the first send and two re-sends time out
    const notResponding = await waitFor(
      () => farm.alerts.find((a) => a.rule === 'system:actuator' && a.device === 'shed-2-fan' && a.state === 'raised'),
      'not responding',
    );
    expect(notResponding).toMatchObject({ level: null, value: null, severity: 'critical' });

    await fan.report('on', command.id); // the fan was slow, not dead
    const cleared = await waitFor(() => farm.alerts.find((a) => a.id === notResponding.id && a.state === 'cleared'), 'the alert cleared');
    expect(cleared.message).toMatch(/responding again/);
    const outcomes = async () =>
      (await ops.get<{ commands: { command: { id: string }; outcome: string }[] }>(`/api/commands?device=shed-2-fan&to=${farm.clock.now()}`)).commands
        .filter((c) => c.command.id === command.id)
        .map((c) => c.outcome)
        .reverse();
    await waitFor(async () => (await outcomes()).includes('acked') || undefined, 'the late ack in the command history');
    expect(await outcomes()).toEqual(['sent', 'retried', 'retried', 'failed', 'acked']);
    fan.holdAcks = false;
  });
});

describe('command reasons', () => {
  it('every command carries one of the documented forms: rule:, manual:, failsafe:, auto:<cause>', async () => {
    const [env, fan] = [shed2, fan2];
    fan.holdAcks = false;
    await env.send({ temperature: 34 }); // the rule holds the fan on (it may already)
    await waitFor(() => fan.commands.at(-1)?.reason === 'rule:shed-heat' || undefined, 'the heat rule to hold the fan on');
    farm.advance(1000);
    const n = fan.commands.length;
    await env.send({ temperature: 20 }); // the rule clears: off, for the rule
    await fan.nth(n + 1);
    farm.advance(1000);
    await fan.report('on'); // switched on at the fan itself, nothing holds it: put back off
    await fan.nth(n + 2);
    farm.advance(1000);
    await env.send({ temperature: 34 }); // the rule fires again
    await fan.nth(n + 3);
    expect((await ops.send('POST', '/api/actuators/shed-2-fan/command', { action: 'off' })).status).toBe(202);
    await ops.send('POST', '/api/actuators/shed-2-fan/mode', { mode: 'manual' });
    await ops.send('POST', '/api/actuators/shed-2-fan/command', { action: 'on' });
    farm.advance(1000);
    await env.send({ temperature: 20 }); // the rule clears while the fan is manual: nothing is commanded
    await ops.send('POST', '/api/actuators/shed-2-fan/mode', { mode: 'auto' }); // nothing holds it: off
    await fan.nth(n + 6).catch((err: Error) => {
      throw new Error(
        `${err.message}; received ${fan.commands
          .slice(n)
          .map((c) => `${c.action}:${c.reason}`)
          .join(', ')}`,
      );
    });
    expect(fan.commands.slice(n).map((c) => `${c.action}:${c.reason}`)).toEqual([
      'off:rule:shed-heat',
      'off:auto:drift',
      'on:rule:shed-heat',
      'off:manual:ops',
      'on:manual:ops',
      'off:auto:manual-ended',
    ]);
    const all = await ops.get<{ commands: { command: { reason: string } }[] }>(`/api/commands?limit=5000&to=${farm.clock.now()}`);
    const forms = /^(rule:[a-z0-9][a-z0-9_-]*|manual:[A-Za-z0-9_.-]+|failsafe:[a-z0-9][a-z0-9_-]*|auto:(drift|manual-ended|hold-ended))$/;
    expect(all.commands.map((c) => c.command.reason).filter((r) => !forms.test(r))).toEqual([]);
  });
});
