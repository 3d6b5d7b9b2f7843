import { afterEach, describe, expect, it } from 'vitest';
import { ActuatorError } from '../../rules/handle.js';
import { harness, HOUR, MIN, SEC, T0, type Harness } from './helpers.js';

const ammonia = {
  id: 'shed-ammonia',
  scope: { kind: 'shed' },
  when: { metric: 'nh3', above: 20, clearBelow: 15 },
  actions: [
    { actuate: { type: 'spray', action: 'on' } },
    { actuate: { type: 'fan', action: 'on' } },
    { alert: { severity: 'warning', message: 'Ammonia {value} ppm in {zone}' } },
  ],
};
const heat = {
  id: 'shed-heat',
  scope: { kind: 'shed' },
  when: { metric: 'temperature', above: 30, clearBelow: 28 },
  actions: [{ actuate: { type: 'fan', action: 'on' } }],
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.engine.stop();
  h = undefined;
});

async function started(rules: unknown[], options = {}): Promise<Harness> {
  h = harness(rules, { options });
  await h.engine.start();
  return h;
}

describe('actuate', () => {
  it('publishes a command on the actuator cmd topic (QoS 1) and records it confirmed when the actuator acks', async () => {
    const h = await started([ammonia]);
    const seen: string[] = [];
    h.bus.on('command', (c) => seen.push(`${c.device}:${c.command.action}`));
    h.send('shed-1-env', { nh3: 25 });
    const cmd = h.published.find((p) => p.topic === 'farm/huyang/shed-1/shed-1-fan/cmd')!;
    expect(cmd.qos).toBe(1);
    expect(cmd.payload).toMatchObject({ action: 'on', reason: 'rule:shed-ammonia', ts: T0 });
    expect(seen.sort()).toEqual(['shed-1-fan:on', 'shed-1-spray:on']);
    expect(h.engine.actuators().find((a) => a.device === 'shed-1-fan')!.pending?.id).toBe(cmd.payload.id);
    h.ack('shed-1-fan', cmd.payload);
    const fan = h.engine.actuators().find((a) => a.device === 'shed-1-fan')!;
    expect(fan).toMatchObject({
      state: 'on',
      holders: [{ kind: 'rule', rule: 'shed-ammonia', sensor: 'shed-1-env', metric: 'nh3', reading: 25, since: T0, decides: true }],
      mode: 'auto',
    });
    expect(fan.pending).toBeUndefined();
    await h.engine.flush();
    expect(h.store.commandRecords.filter((r) => r.device === 'shed-1-fan').map((r) => r.outcome)).toEqual(['sent', 'acked']);
  });

  it('retries a command nobody acknowledges, then raises "actuator not responding"', async () => {
    const h = await started([ammonia]);
    h.send('shed-1-env', { nh3: 25 });
    h.ack('shed-1-spray', h.commands('shed-1-spray')[0]);
    h.clock.advance(5 * SEC);
    h.clock.advance(5 * SEC);
    expect(h.commands('shed-1-fan')).toHaveLength(3);
    expect(new Set(h.commands('shed-1-fan').map((c) => c.id)).size).toBe(1); // the same command again
    expect(h.alerts()).toHaveLength(1); // only the ammonia alert so far
    h.clock.advance(5 * SEC);
    const alert = h.alerts().at(-1)!;
    expect(alert).toMatchObject({ rule: 'system:actuator', device: 'shed-1-fan', severity: 'critical', state: 'raised' });
    expect(alert.message).toMatch(/actuator not responding/);
    // In Chinese too, for a zh-CN site's notifications (the test farm gives the fan no name: its id).
    expect(alert.messages?.zh).toBe('执行器无响应：shed-1-fan 尝试 3 次仍未确认“开启”指令');
    expect(h.commands('shed-1-fan')).toHaveLength(3); // bounded: no more retries
    await h.engine.flush();
    expect(h.store.commandRecords.filter((r) => r.device === 'shed-1-fan').map((r) => r.outcome)).toEqual(['sent', 'retried', 'retried', 'failed']);
    // The fan comes back and reports: the alert clears.
    h.ack('shed-1-fan', { id: 'late', action: 'on' });
    expect(h.alerts().at(-1)).toMatchObject({
      id: alert.id,
      state: 'cleared',
      message: 'cleared: shed-1-fan is responding again',
      messages: { zh: '已解除：shed-1-fan 恢复响应' },
    });
  });

  it('an actuator that said it is offline is not expected to answer: its command waits, no "not responding", and goes out again when it is back', async () => {
    const h = await started([ammonia]);
    const status = (device: string, status: 'online' | 'offline') =>
      h.bus.emit('status', { site: 'huyang', zone: 'shed-1', kind: 'shed', device, status, ts: h.clock.now() });
    h.send('shed-1-env', { nh3: 25 });
    h.ackAll();
    // The simulator stops: its devices publish offline; then the ammonia falls and the rule lets go of the fan.
    status('shed-1-fan', 'offline');
    status('shed-1-spray', 'offline');
    h.send('shed-1-env', { nh3: 10 });
    const off = h.commands('shed-1-fan').at(-1)!;
    expect(off.action).toBe('off');
    h.clock.advance(5 * SEC);
    h.clock.advance(5 * SEC);
    h.clock.advance(5 * SEC);
    h.clock.advance(2 * MIN); // (shed-1's fail-safe would take the fan after 10 min of silent sensors)
    expect(h.alerts().filter((a) => a.rule === 'system:actuator')).toEqual([]);
    expect(h.commands('shed-1-fan').filter((c) => c.id === off.id)).toHaveLength(1); // no retries meanwhile
    expect(h.engine.actuators().find((a) => a.device === 'shed-1-fan')!.pending?.id).toBe(off.id);
    // It comes back: the waiting command goes out again, with the same id, and its ack settles it.
    status('shed-1-fan', 'online');
    expect(h.commands('shed-1-fan').filter((c) => c.id === off.id)).toHaveLength(2);
    h.ack('shed-1-fan', off);
    const fan = h.engine.actuators().find((a) => a.device === 'shed-1-fan')!;
    expect(fan.state).toBe('off');
    expect(fan.pending).toBeUndefined();
    // Back online and silent: the usual retries and the alert apply again.
    status('shed-1-spray', 'online');
    h.clock.advance(5 * SEC);
    h.clock.advance(5 * SEC);
    h.clock.advance(5 * SEC);
    expect(
      h
        .alerts()
        .filter((a) => a.rule === 'system:actuator')
        .map((a) => a.device),
    ).toEqual(['shed-1-spray']);
    await h.engine.flush();
    expect(h.store.commandRecords.filter((r) => r.device === 'shed-1-fan').map((r) => r.outcome)).toEqual(['sent', 'acked', 'sent', 'retried', 'acked']);
  });

  it('two rules holding one fan: the fan stays on until the last one clears', async () => {
    const h = await started([ammonia, heat]);
    h.send('shed-1-env', { nh3: 25, temperature: 32 });
    h.ackAll();
    expect(h.commands('shed-1-fan').map((c) => c.action)).toEqual(['on']);
    expect(
      h.engine
        .actuators()
        .find((a) => a.device === 'shed-1-fan')!
        .holders.map((x) => (x.kind === 'rule' ? x.rule : x.kind))
        .sort(),
    ).toEqual(['shed-ammonia', 'shed-heat']);
    h.send('shed-1-env', { nh3: 10, temperature: 32 });
    expect(h.commands('shed-1-fan').map((c) => c.action)).toEqual(['on']); // heat still holds it
    expect(h.commands('shed-1-spray').map((c) => c.action)).toEqual(['on', 'off']); // only ammonia held the spray
    h.send('shed-1-env', { nh3: 10, temperature: 25 });
    expect(h.commands('shed-1-fan').map((c) => `${c.action}:${c.reason}`)).toEqual(['on:rule:shed-ammonia', 'off:rule:shed-heat']);
  });

  it('holds an actuator for minOn before switching it off', async () => {
    const h = await started([{ ...heat, minOn: '2m' }]);
    h.send('shed-2-env', { temperature: 32 });
    h.ackAll();
    h.clock.advance(30 * SEC);
    h.send('shed-2-env', { temperature: 20 });
    expect(h.commands('shed-2-fan').map((c) => c.action)).toEqual(['on']);
    h.clock.advance(89 * SEC);
    expect(h.commands('shed-2-fan').map((c) => c.action)).toEqual(['on']);
    h.clock.advance(1 * SEC);
    expect(h.commands('shed-2-fan').map((c) => c.action)).toEqual(['on', 'off']);
  });
});

describe('minimum off time', () => {
  it('keeps an actuator off for minOff after a rule switched it off, then switches it on again if still wanted', async () => {
    const h = await started([{ ...heat, minOff: '3m' }]);
    h.send('shed-2-env', { temperature: 32 });
    h.ackAll();
    h.send('shed-2-env', { temperature: 20 });
    h.ackAll();
    expect(h.commands('shed-2-fan').map((c) => c.action)).toEqual(['on', 'off']);
    h.clock.advance(MIN);
    h.send('shed-2-env', { temperature: 33 }); // wanted again 1 min after it went off
    h.clock.advance(119 * SEC);
    expect(h.commands('shed-2-fan').map((c) => c.action)).toEqual(['on', 'off']);
    h.clock.advance(SEC);
    expect(h.commands('shed-2-fan').map((c) => c.action)).toEqual(['on', 'off', 'on']);
  });
});

describe('manual mode and operator commands', () => {
  it('rules never command an actuator in manual mode, its alerts still fire, and expiry hands it back', async () => {
    const h = await started([ammonia]);
    const modes: string[] = [];
    h.bus.on('actuatorMode', (m) => modes.push(`${m.device}:${m.mode}`));
    const view = h.engine.setMode('shed-1-fan', 'manual', T0 + 10 * MIN, 'ops');
    expect(view).toMatchObject({ mode: 'manual', manualUntil: T0 + 10 * MIN });
    h.send('shed-1-env', { nh3: 25 });
    h.ackAll();
    expect(h.commands('shed-1-fan')).toEqual([]);
    expect(h.commands('shed-1-spray')).toHaveLength(1);
    expect(h.alerts()).toHaveLength(1);
    h.clock.advance(10 * MIN);
    expect(modes).toEqual(['shed-1-fan:manual', 'shed-1-fan:auto']);
    expect(h.commands('shed-1-fan').map((c) => c.action)).toEqual(['on']); // the rule still holds it
  });

  it('an operator command is published at once with reason manual:<user> and holds for operatorHold; unknown ids and sensors are refused', async () => {
    const h = await started([]);
    const { command: cmd, hold } = h.engine.command('shed-2-fan', 'set', 60, 'ops');
    expect(h.commands('shed-2-fan')).toEqual([cmd]);
    expect(cmd).toMatchObject({ action: 'set', value: 60, reason: 'manual:ops' });
    expect(hold).toEqual({ kind: 'operator', user: 'ops', action: 'set', value: 60, since: T0, until: T0 + 30 * MIN, decides: true });
    expect(h.engine.actuators().find((a) => a.device === 'shed-2-fan')!.holders).toEqual([hold]);
    expect(() => h.engine.command('nope', 'on', undefined, 'ops')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => h.engine.command('shed-2-env', 'on', undefined, 'ops')).toThrow(ActuatorError);
    expect(() => h.engine.setMode('shed-2-env', 'manual', undefined, 'ops')).toThrow(/sensor/);
  });

  it('an operator hold keeps the fan on after the rule that also held it clears, until the hold ends', async () => {
    const h = await started([heat]);
    h.send('shed-2-env', { temperature: 32 });
    h.engine.command('shed-2-fan', 'on', undefined, 'ops', { forMs: 10 * MIN });
    h.ackAll();
    h.send('shed-2-env', { temperature: 20 });
    expect(h.commands('shed-2-fan').map((c) => c.action)).toEqual(['on', 'on']);
    h.clock.advance(10 * MIN);
    expect(h.commands('shed-2-fan').map((c) => `${c.action}:${c.reason}`)).toEqual(['on:rule:shed-heat', 'on:manual:ops', 'off:auto:hold-ended']);
  });
});

describe('alerts', () => {
  const fill = {
    id: 'pipe-fill',
    scope: { kind: 'drain' },
    when: {
      metric: 'fill',
      levels: [
        { name: 'yellow', above: 50 },
        { name: 'orange', above: 70 },
        { name: 'red', above: 85, severity: 'critical' },
      ],
    },
    actions: [{ alert: { severity: 'warning', message: '{zone} at {value} % ({level})' } }],
  };

  it('one alert is raised, escalated, acknowledged and cleared: published, emitted and stored each time', async () => {
    const h = await started([fill]);
    h.send('pipe-1-level', { fill: 55 });
    h.clock.advance(MIN);
    h.send('pipe-1-level', { fill: 90 });
    const id = h.alerts()[0].id;
    expect(h.engine.activeAlerts()).toMatchObject([{ id, state: 'escalated', level: 'red', severity: 'critical' }]);
    const acked = h.engine.acknowledge(id, 'ops');
    expect(acked).toMatchObject({ id, state: 'acknowledged', by: 'ops' });
    expect(h.engine.acknowledge(id, 'ops')).toMatchObject({ state: 'acknowledged' }); // idempotent, no new event
    h.send('pipe-1-level', { fill: 40 });
    expect(h.alerts().map((a) => `${a.state}:${a.level}`)).toEqual(['raised:yellow', 'escalated:red', 'acknowledged:red', 'cleared:red']);
    expect(new Set(h.alerts().map((a) => a.id))).toEqual(new Set([id]));
    expect(h.alerts()[0].message).toBe('pipe-1 at 55 % (yellow)');
    expect(h.engine.activeAlerts()).toEqual([]);
    const published = h.published.filter((p) => p.topic === 'farm/city/pipe-1/alert');
    expect(published.map((p) => [p.qos, p.payload.state])).toEqual([
      [1, 'raised'],
      [1, 'escalated'],
      [1, 'acknowledged'],
      [1, 'cleared'],
    ]);
    await h.engine.flush();
    expect(h.store.alertEvents.map((a) => a.state)).toEqual(['raised', 'escalated', 'acknowledged', 'cleared']);
  });

  it('unknown alert ids acknowledge nothing', async () => {
    const h = await started([fill]);
    expect(h.engine.acknowledge('nope', 'ops')).toBeUndefined();
  });
});

describe('alert texts of a rule without a message', () => {
  it('says the description, the metric and the value in both languages, and the grade in words in Chinese', async () => {
    const h = await started([
      {
        id: 'nh3-high',
        description: 'Ammonia high',
        scope: { kind: 'shed' },
        when: { metric: 'nh3', above: 20, clearBelow: 15 },
        actions: [{ alert: { severity: 'warning' } }],
      },
    ]);
    h.send('shed-1-env', { nh3: 28 });
    expect(h.alerts().at(-1)).toMatchObject({
      state: 'raised',
      message: 'Ammonia high: nh3 28',
      messages: { en: 'Ammonia high: nh3 28', zh: 'Ammonia high：氨气 28' },
    });
    h.send('shed-1-env', { nh3: 10 });
    expect(h.alerts().at(-1)).toMatchObject({ state: 'cleared', messages: { zh: '已解除：Ammonia high：氨气 10' } });
  });
});

describe('stale sensors and fail-safe', () => {
  it('a device silent for the stale period raises "sensor offline"; the store seeds when it last reported', async () => {
    h = harness([{ id: 'offline', scope: { kind: 'drain' }, when: { stale: '15m' }, actions: [{ alert: { severity: 'warning' } }] }]);
    await h.store.writeReadings([{ site: 'city', zone: 'pipe-1', kind: 'drain', device: 'pipe-1-level', ts: T0 - 14 * MIN, metrics: { fill: 20 } }]);
    await h.engine.start();
    h.clock.advance(MIN);
    expect(h.alerts().map((a) => a.device)).toEqual(['pipe-1-level']);
    expect(h.alerts()[0].message).toBe('sensor offline: no reading from pipe-1-level for 15m');
    // The rule has no message of its own: it still speaks Chinese (this farm file names nothing: the zone's only level sensor goes by its zone).
    expect(h.alerts()[0].messages?.zh).toBe('传感器离线：pipe-1 已 15分钟 无读数');
    h.send('pipe-1-level', { fill: 20 });
    expect(h.alerts().at(-1)).toMatchObject({ device: 'pipe-1-level', state: 'cleared', messages: { zh: '已解除：pipe-1 恢复上报' } });
    h.clock.advance(14 * MIN); // never-seen devices count from engine start
    const raised = h.alerts().filter((a) => a.rule === 'offline' && a.state === 'raised');
    expect(raised.map((a) => a.device).sort()).toEqual(['pipe-1-level', 'pipe-2-level', 'rg-1']);
  });

  it('a shed whose sensors go silent puts its fans in the fail-safe state until readings return', async () => {
    const h = await started([heat]);
    h.clock.advance(9 * MIN);
    expect(h.commands('shed-1-fan')).toEqual([]);
    h.clock.advance(MIN);
    expect(h.commands('shed-1-fan').map((c) => `${c.action}:${c.reason}`)).toEqual(['on:failsafe:shed-1']);
    expect(h.commands('shed-2-fan')).toEqual([]); // shed-2 has no fail-safe configured
    expect(h.alerts()).toMatchObject([{ rule: 'system:failsafe', zone: 'shed-1', severity: 'critical', state: 'raised' }]);
    h.ackAll();
    h.send('shed-1-env', { temperature: 20 });
    expect(h.commands('shed-1-fan').map((c) => c.action)).toEqual(['on', 'off']);
    expect(h.alerts().at(-1)).toMatchObject({
      rule: 'system:failsafe',
      state: 'cleared',
      message: 'cleared: readings back from shed-1-env, fail-safe ended in shed-1',
      // The test farm gives no names: the zone's only sensor is called by its zone, as everywhere.
      messages: { zh: '已解除：shed-1 恢复上报，shed-1的失效保护已结束' },
    });
  });
});

describe('sustained conditions over hours', () => {
  it('a pipe above 60 % for 6 h in dry weather raises "long-term high water"', async () => {
    const h = await started([
      {
        id: 'high-water',
        scope: { zone: 'pipe-1' },
        when: {
          all: [
            { metric: 'fill', above: 60, for: '6h', clearBelow: 50 },
            { metric: 'rain_mm', device: 'rg-1', window: '6h', agg: 'sum', below: 1 },
          ],
        },
        actions: [{ alert: { severity: 'warning', message: 'long-term high water in {zone}: silting or blockage?' } }],
      },
    ]);
    const highWater = () => h.alerts().filter((a) => a.rule === 'high-water');
    for (let t = 0; t <= 7 * HOUR && highWater().length === 0; t += 10 * MIN) {
      h.clock.set(T0 + t);
      h.send('rg-1', { rain_mm: 0 });
      h.send('pipe-1-level', { fill: 65 });
    }
    expect(highWater()).toMatchObject([{ rule: 'high-water', device: 'pipe-1-level', ts: T0 + 6 * HOUR }]);
  });
});
