import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../core/domain.js';
import type { CommandRecord, RawPoint } from '../../store/store.js';
import type { RunnerStats } from '../../simulators/runner.js';
import { getScenario } from '../../simulators/scenarios.js';
import { typhoonRainEndSec } from '../../simulators/models/rainfall.js';
import { playOnService, settledStore, type LockstepFarm } from './lockstep-farm.js';

/**
 * The typhoon scenario (38 simulated hours) against the whole service with the demo rules, in lockstep on a
 * simulated clock so that every rain window and `for` is judged in simulated time. Asserted from the store.
 * Only the demo farm's drainage site is played (with all the demo rules): sheds and fields do not feed the
 * drains in the model, and leaving them out halves the run time.
 */
const START = Date.UTC(2021, 6, 24, 20 - 8); // 24 July 2021, 20:00 in Hangzhou: In-Fa's outer bands arrive
const HOUR = 3_600_000;
const RAIN_ENDS = START + typhoonRainEndSec() * 1000;
const CORE_ENDS = RAIN_ENDS - 0.5 * HOUR; // then half an hour of taper

let farm: LockstepFarm;
let final: RunnerStats;
let alerts: AlertEvent[];
let commands: CommandRecord[];
let sump: RawPoint[];
let gauges: string[];
let pipes: { device: string; silted: boolean }[];

const events = (rule: string, device: string) => alerts.filter((a) => a.rule === rule && a.device === device);
const firstAt = (rule: string, device: string, level: string) => events(rule, device).find((a) => a.level === level && (a.state === 'raised' || a.state === 'escalated'))?.ts;
const lastOf = (device: string) => {
  const byRule = new Map<string, AlertEvent>();
  for (const a of alerts.filter((x) => x.device === device)) byRule.set(a.rule, a);
  return [...byRule.values()];
};

beforeAll(async () => {
  farm = await playOnService({
    startTs: START,
    scenario: 'typhoon',
    sites: ['xihu-drain'],
    seed: 7,
    speed: 1_000_000, // as fast as the service takes it in
    stepSec: 300,
    reportEverySec: 300,
    durationSec: getScenario('typhoon').durationSec,
    env: { BATCH_INTERVAL: '2ms' },
  });
  final = await farm.played;
  await settledStore(farm.service);
  const to = farm.clock.now() + 1;
  alerts = (await farm.service.store.alerts({ from: START, to, limit: 100_000 })).sort((a, b) => a.ts - b.ts);
  commands = (await farm.service.store.commands({ from: START, to, limit: 100_000 })).sort((a, b) => a.ts - b.ts);
  sump = (await farm.service.store.raw({ device: 'sump-1-level', metric: 'fill', from: START, to })).sort((a, b) => a.ts - b.ts);
  const drain = farm.farm.sites.find((s) => s.id === 'xihu-drain')!;
  gauges = drain.zones.flatMap((z) => z.devices.filter((d) => d.metrics?.join() === 'rain_mm').map((d) => d.id));
  pipes = drain.zones.filter((z) => z.attributes?.type === 'pipe').map((z) => ({ device: z.devices[0].id, silted: z.attributes?.silting === true }));
}, 120_000);

afterAll(async () => {
  await farm?.stop();
});

describe('typhoon against the service and the demo rules', () => {
  it('plays 38 simulated hours with every reading accepted, no stalls and no false alarms from the speed', () => {
    expect(final).toMatchObject({ finished: true, skipped: 0, errors: 0, stalls: 0 });
    expect(farm.service.ingest.stats().rejected).toMatchObject({ future_timestamp: 0, stale_timestamp: 0, schema: 0, out_of_range: 0, malformed_json: 0 });
    // Every sensor reported every 5 min, every command was answered at once: no stale sensor, no silent actuator.
    expect(alerts.filter((a) => a.rule === 'sensor-stale' || a.rule.startsWith('system:'))).toEqual([]);
    expect(commands.filter((c) => c.outcome === 'retried' || c.outcome === 'failed')).toEqual([]);
  });

  it('each rain gauge raises the rainstorm signals in order, blue, yellow, orange, then escalates to red', () => {
    expect(gauges).toHaveLength(3);
    for (const g of gauges) {
      const blue = firstAt('rainstorm-12h', g, 'blue')!;
      const yellow = firstAt('rainstorm-6h', g, 'yellow')!;
      const orange = firstAt('rainstorm-3h', g, 'orange')!;
      const red = events('rainstorm-3h', g).find((a) => a.state === 'escalated' && a.level === 'red')!;
      expect([blue, yellow, orange, red?.ts].every((t) => typeof t === 'number'), g).toBe(true);
      expect(blue).toBeLessThan(yellow);
      expect(yellow).toBeLessThan(orange);
      expect(orange).toBeLessThan(red.ts);
      expect(red.value).toBeGreaterThan(100);
      expect(red.severity).toBe('critical');
      // The outer bands alone bring the 12 h signal, hours before the core.
      expect(yellow - blue).toBeGreaterThan(HOUR);
    }
  });

  it('every pipe that is not silted raises a fill alert that escalates yellow, orange, red, and clears once the storm has passed', async () => {
    const clean = pipes.filter((p) => !p.silted);
    expect(clean.length).toBeGreaterThanOrEqual(8);
    let sawOrange = 0;
    for (const { device } of clean) {
      const fill = events('drain-fill', device);
      expect(fill[0], device).toMatchObject({ state: 'raised', level: 'yellow' });
      const red = firstAt('drain-fill', device, 'red')!;
      expect(red, device).toBeGreaterThan(fill[0].ts);
      // Up to red the level only climbs. Orange is skipped only when no reading in between was in 70–85 %.
      const rank = { yellow: 0, orange: 1, red: 2 } as Record<string, number>;
      const climb = fill.filter((a) => a.ts <= red).map((a) => rank[a.level!]);
      expect(climb, device).toEqual([...climb].sort());
      const readings = await farm.service.store.raw({ device, metric: 'fill', from: fill[0].ts, to: red, limit: 10_000 });
      const orange = firstAt('drain-fill', device, 'orange');
      if (readings.some((p) => p.value > 70 && p.value <= 85)) {
        expect(orange, device).toBeLessThan(red);
        sawOrange++;
      }
      const cleared = fill.at(-1)!;
      expect(cleared.state, device).toBe('cleared');
      expect(cleared.ts).toBeGreaterThan(CORE_ENDS);
      expect(cleared.ts).toBeLessThan(RAIN_ENDS + 2 * HOUR);
    }
    expect(sawOrange).toBeGreaterThan(0);
  });

  it('after the storm every rain and pipe alert is cleared; only the silted pipe stays high and is flagged for dredging', () => {
    for (const g of gauges) expect(lastOf(g).filter((a) => a.state !== 'cleared'), g).toEqual([]);
    for (const { device, silted } of pipes) {
      const open = lastOf(device).filter((a) => a.state !== 'cleared');
      if (!silted) expect(open, device).toEqual([]);
      else {
        // Above 60 % for 6 h with no rain at any gauge: the demo rule for silting or a blockage.
        const dredge = events('drain-long-high-water', device).find((a) => a.state === 'raised')!;
        expect(dredge).toBeDefined();
        expect(dredge.ts).toBeGreaterThanOrEqual(RAIN_ENDS + 6 * HOUR);
        expect(open.map((a) => a.rule).sort()).toEqual(['drain-fill', 'drain-long-high-water']);
      }
    }
  });

  it('the sump fills in the storm; the rule runs the pump, which brings it down, and stops it again', () => {
    const pump = commands.filter((c) => c.device === 'sump-1-pump' && c.outcome === 'sent');
    const on = pump.filter((c) => c.command.action === 'on');
    expect(on.length).toBeGreaterThan(0);
    for (const c of pump) expect(commands.some((r) => r.outcome === 'acked' && r.command.id === c.command.id)).toBe(true);
    const firstOn = on[0];
    const off = pump.find((c) => c.command.action === 'off' && c.ts > firstOn.ts)!;
    expect(off).toBeDefined();
    const atOn = sump.filter((p) => p.ts <= firstOn.ts).at(-1)!.value;
    expect(atOn).toBeGreaterThan(70);
    const lowest = Math.min(...sump.filter((p) => p.ts > firstOn.ts && p.ts <= off.ts).map((p) => p.value));
    expect(lowest).toBeLessThan(30);
  });
});
