import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../core/domain.js';
import type { CommandRecord } from '../../store/store.js';
import type { RunnerStats } from '../../simulators/runner.js';
import { METRICS } from '../../core/metrics-catalog.js';
import { playOnService, settledStore, type LockstepFarm } from './lockstep-farm.js';

/**
 * The sensor-faults scenario against the whole service with the demo rules, in lockstep: broken devices
 * must be rejected and counted, noticed (stale, fail-safe, actuator not responding) and never lose what a
 * store-and-forward device kept. Faults (scenario plan, by device order in the demo farm):
 * stuck shed-1-env from 10 min, spikes shed-2-env, silent shed-3-env 15–45 min, out-of-range shed-4-env,
 * malformed field-1-soil, field-2-soil offline 20–30 min then one batch, shed-1-fan never acknowledges.
 */
const START = Date.UTC(2025, 5, 10, 10 - 8); // 10 June 2025, 10:00 in Hangzhou
const MIN = 60_000;

let farm: LockstepFarm;
let final: RunnerStats;
let alerts: AlertEvent[];
let commands: CommandRecord[];
let operatorCommand: { status: number; body: { command?: { id: string } } };
const to = () => farm.clock.now() + 1;

async function asOperator(path: string, body: unknown) {
  const base = `http://127.0.0.1:${farm.service.httpPort}`;
  const login = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'ops', password: 'dev-only-operator' }),
  });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { command?: { id: string } } };
}

beforeAll(async () => {
  farm = await playOnService({
    startTs: START,
    scenario: 'sensor-faults',
    seed: 4,
    speed: 1_000_000,
    stepSec: 30,
    reportEverySec: 60,
    durationSec: 2 * 3600,
    env: { BATCH_INTERVAL: '2ms' },
  });
  // An operator switches on the fan that never answers (the rules may do so too).
  operatorCommand = await asOperator('/api/actuators/shed-1-fan/command', { action: 'on' });
  final = await farm.played;
  await settledStore(farm.service);
  alerts = (await farm.service.store.alerts({ from: START, to: to(), limit: 100_000 })).sort((a, b) => a.ts - b.ts);
  commands = (await farm.service.store.commands({ from: START, to: to(), limit: 100_000 })).sort((a, b) => a.ts - b.ts);
}, 90_000);

afterAll(async () => {
  await farm?.stop();
});

describe('sensor-faults against the service and the demo rules', () => {
  it('the planned faults hit the devices named above', () => {
    expect(farm.runner.simulation.faults.map((f) => `${f.kind}:${f.device}`)).toEqual([
      'stuck:shed-1-env',
      'spike:shed-2-env',
      'dropout:shed-3-env',
      'out-of-range:shed-4-env',
      'malformed:field-1-soil',
      'reconnect-batch:field-2-soil',
      'never-ack:shed-1-fan',
    ]);
    expect(final).toMatchObject({ finished: true, stalls: 0, errors: 0 });
  });

  it('garbage and malformed payloads are rejected and counted by reason, and none of it is stored', async () => {
    const rejected = farm.service.ingest.stats().rejected;
    expect(rejected.out_of_range).toBeGreaterThan(10);
    expect(rejected.malformed_json + rejected.schema).toBeGreaterThan(10);
    expect(rejected.future_timestamp + rejected.stale_timestamp + rejected.unauthorised_topic + rejected.unknown_device).toBe(0);
    for (const device of ['shed-4-env', 'field-1-soil']) {
      const points = await farm.service.store.raw({ device, from: START, to: to(), limit: 100_000 });
      expect(points.length).toBeGreaterThan(0);
      for (const p of points) {
        expect(p.value).toBeGreaterThanOrEqual(METRICS[p.metric].min);
        expect(p.value).toBeLessThanOrEqual(METRICS[p.metric].max);
      }
    }
  });

  it('a stuck sensor repeats one value: the store shows a flat line from 10 minutes on', async () => {
    const nh3 = await farm.service.store.raw({ device: 'shed-1-env', metric: 'nh3', from: START + 11 * MIN, to: to(), limit: 100_000 });
    expect(nh3.length).toBeGreaterThan(100);
    expect(new Set(nh3.map((p) => p.value)).size).toBe(1);
  });

  it('a silent sensor is flagged stale after 10 minutes and its shed goes to fail-safe; both clear when it is back', async () => {
    const silent = await farm.service.store.raw({ device: 'shed-3-env', from: START + 15 * MIN + 1, to: START + 45 * MIN, limit: 100_000 });
    expect(silent).toEqual([]);
    const stale = alerts.filter((a) => a.rule === 'sensor-stale' && a.device === 'shed-3-env');
    expect(stale.map((a) => a.state)).toEqual(['raised', 'cleared']);
    expect(stale[0].ts).toBeGreaterThanOrEqual(START + 24 * MIN);
    expect(stale[0].ts).toBeLessThanOrEqual(START + 26 * MIN);
    expect(stale[1].ts).toBeGreaterThanOrEqual(START + 45 * MIN);
    const failsafe = alerts.filter((a) => a.rule === 'system:failsafe' && a.zone === 'shed-3');
    expect(failsafe.map((a) => [a.state, a.severity])).toEqual([
      ['raised', 'critical'],
      ['cleared', 'critical'],
    ]);
  });

  it('a store-and-forward device that was offline sends its readings in one batch: nothing is lost', async () => {
    const kept = await farm.service.store.raw({ device: 'field-2-soil', metric: 'soil_moisture', from: START + 20 * MIN, to: START + 30 * MIN, limit: 1000 });
    expect(kept.length).toBeGreaterThanOrEqual(9); // one a minute while it was away
    const stale = alerts.filter((a) => a.rule === 'sensor-stale' && a.device === 'field-2-soil');
    if (stale.length > 0) expect(stale.at(-1)!.state).toBe('cleared');
  });

  it('an actuator that never acknowledges is retried, then raises "actuator not responding"', () => {
    expect(operatorCommand.status).toBe(202);
    const fan = commands.filter((c) => c.device === 'shed-1-fan');
    expect(fan.filter((c) => c.outcome === 'acked')).toEqual([]);
    expect(fan.some((c) => c.outcome === 'retried')).toBe(true);
    const failed = fan.find((c) => c.outcome === 'failed')!;
    expect(failed).toBeDefined();
    const alarm = alerts.find((a) => a.rule === 'system:actuator' && a.device === 'shed-1-fan' && a.state === 'raised')!;
    expect(alarm).toMatchObject({ severity: 'critical' });
    expect(alarm.message).toMatch(/actuator not responding: shed-1-fan did not acknowledge/);
    // The other actuators answer as they should.
    expect(commands.filter((c) => c.device !== 'shed-1-fan' && c.outcome === 'failed')).toEqual([]);
  });
});
