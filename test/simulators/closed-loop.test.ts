import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../core/domain.js';
import type { CommandRecord, RawPoint } from '../../store/store.js';
import type { RunnerStats } from '../../simulators/runner.js';
import { playOnService, settledStore, type LockstepFarm } from './lockstep-farm.js';

/**
 * The ammonia-buildup scenario against the whole service (embedded broker, ingest, SQLite store, rules engine
 * with the demo rules), every simulated device a real MQTT client with its own secret. The service runs on
 * the simulator's clock in lockstep, so the demo rules `nh3 atLeast 20 for 30s, clearBelow 15, minOn 2m` (the fan,
 * shed-ammonia; the spray, shed-deodorise, allowed in this mild, not humid shed) are judged in simulated time
 * exactly as they would be in real time. Everything is asserted from the store.
 */
const START = Date.UTC(2025, 10, 20, 10 - 8); // 20 Nov 2025, 10:00 in Hangzhou (UTC+8): a cool day, the shed kept closed
const SIM_MINUTES = 30;

let farm: LockstepFarm;
let final: RunnerStats;
let nh3: RawPoint[];
let commands: CommandRecord[];
let alerts: AlertEvent[];

const sent = (device: string, action: string) =>
  commands.filter((c) => c.device === device && c.outcome === 'sent' && c.command.action === action).sort((a, b) => a.ts - b.ts);
const acked = (c: CommandRecord) => commands.some((r) => r.outcome === 'acked' && r.command.id === c.command.id);

beforeAll(async () => {
  farm = await playOnService({
    startTs: START,
    scenario: 'ammonia-buildup',
    seed: 7,
    speed: 100_000, // an upper bound: lockstep goes as fast as the service takes the readings in, never faster
    env: { BATCH_INTERVAL: '2ms' },
    stepSec: 5,
    reportEverySec: 15,
    durationSec: SIM_MINUTES * 60,
  });
  const { service, clock } = farm;
  final = await farm.played;
  const to = clock.now() + 1;
  await settledStore(service);
  nh3 = (await service.store.raw({ device: 'shed-1-env', metric: 'nh3', from: START, to })).sort((a, b) => a.ts - b.ts);
  commands = [
    ...(await service.store.commands({ device: 'shed-1-spray', limit: 1000 })),
    ...(await service.store.commands({ device: 'shed-1-fan', limit: 1000 })),
  ];
  alerts = (await service.store.alerts({ from: START, limit: 10_000 })).sort((a, b) => a.ts - b.ts);
}, 90_000);

afterAll(async () => {
  await farm?.stop();
});

describe('ammonia-buildup against the service and the demo rules: a closed loop', () => {
  it('every device connected with its own secret and the run played to the end without errors or stalls', () => {
    expect(final).toMatchObject({ finished: true, skipped: 0, errors: 0, stalls: 0 });
    expect(final.simElapsedSec).toBe(SIM_MINUTES * 60);
    const sensors = farm.runner.simulation.devices().filter((d) => d.role === 'sensor').length;
    expect(final.telemetry).toBe(sensors * SIM_MINUTES * 4); // one reading per sensor every 15 s, none lost
    expect(nh3).toHaveLength(SIM_MINUTES * 4);
    expect(farm.service.ingest.stats().rejected).toMatchObject({ future_timestamp: 0, stale_timestamp: 0, schema: 0, out_of_range: 0 });
  });

  it('NH3 rises past 20 ppm; after 30 s above it the rules switch the spray and the fan on, and both acknowledge', () => {
    const firstAbove = nh3.find((p) => p.value >= 20)!;
    expect(firstAbove).toBeDefined();
    expect(nh3[0].value).toBeLessThan(20);
    const sprayOn = sent('shed-1-spray', 'on')[0];
    const fanOn = sent('shed-1-fan', 'on')[0];
    for (const [on, rule] of [
      [sprayOn, 'shed-deodorise'],
      [fanOn, 'shed-ammonia'],
    ] as const) {
      expect(on.command.reason).toBe(`rule:${rule}`);
      expect(acked(on)).toBe(true);
      // `for: 30s` is honoured in simulated time: not before, and within one step and one report after.
      expect(on.ts - firstAbove.ts).toBeGreaterThanOrEqual(30_000);
      expect(on.ts - firstAbove.ts).toBeLessThan(30_000 + 15_000 + 5_000 + 1);
    }
    const raised = alerts.find((a) => a.rule === 'shed-ammonia' && a.device === 'shed-1-env' && a.state === 'raised');
    expect(raised?.message).toMatch(/^Ammonia \d+(\.\d+)? ppm \(\d+(\.\d+)? mg\/m³\) in shed-1$/);
    expect(raised!.ts).toBe(sprayOn.ts);
  });

  it('with spray and fan on, NH3 falls back below the 15 ppm clear threshold; then the rules switch both off', () => {
    const sprayOn = sent('shed-1-spray', 'on')[0];
    const belowClear = nh3.find((p) => p.ts > sprayOn.ts && p.value < 15)!;
    expect(belowClear).toBeDefined();
    const sprayOff = sent('shed-1-spray', 'off').find((c) => c.ts > sprayOn.ts)!;
    const fanOff = sent('shed-1-fan', 'off').find((c) => c.ts > sprayOn.ts)!;
    for (const [off, rule] of [
      [sprayOff, 'shed-deodorise'],
      [fanOff, 'shed-ammonia'],
    ] as const) {
      expect(off.command.reason).toBe(`rule:${rule}`);
      expect(acked(off)).toBe(true);
      expect(off.ts).toBeGreaterThanOrEqual(belowClear.ts);
      expect(off.ts - sprayOn.ts).toBeGreaterThanOrEqual(2 * 60_000); // minOn: 2m
    }
    const cleared = alerts.find((a) => a.rule === 'shed-ammonia' && a.device === 'shed-1-env' && a.state === 'cleared' && a.ts > sprayOn.ts);
    expect(cleared).toBeDefined();
  });

  it('the loop keeps working: NH3 builds up again, is knocked down again, and stays within bounds all along', () => {
    expect(sent('shed-1-spray', 'on').length).toBeGreaterThanOrEqual(2);
    expect(sent('shed-1-spray', 'off').length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...nh3.map((p) => p.value))).toBeLessThan(26);
    // No command went unanswered and no other rule fought over the shed's fan.
    expect(alerts.filter((a) => a.rule === 'system:actuator')).toEqual([]);
    expect(commands.filter((c) => c.outcome === 'retried' || c.outcome === 'failed')).toEqual([]);
    expect(new Set(commands.map((c) => c.command.reason))).toEqual(new Set(['rule:shed-ammonia', 'rule:shed-deodorise']));
    expect(farm.runner.simulation.actuator('shed-1-spray')?.state).toBe(
      sent('shed-1-spray', 'on').at(-1)!.ts > sent('shed-1-spray', 'off').at(-1)!.ts ? 'on' : 'off',
    );
  });
});
