import { loadFarmConfig } from '../../core/config/load.js';
import type { FarmConfigT } from '../../core/config/schema.js';
import { createSimClock, type SimClock } from '../../simulators/sim-clock.js';
import { createSimulatorRunner, type RunnerStats, type SimulatorRunner, type SimulatorRunnerOptions } from '../../simulators/runner.js';
import { DEMO_CONFIG, startTestService } from '../helpers/service.js';

/**
 * The whole service (embedded broker, ingest, SQLite store, rules engine with the farm file's rules) in this
 * process on a simulated clock, and the simulated farm against it as real MQTT clients with their own
 * secrets, in lockstep: a scenario of hours plays in seconds and meets the rules as it would in real time.
 */
export interface LockstepFarm {
  service: Awaited<ReturnType<typeof startTestService>>;
  runner: SimulatorRunner;
  clock: SimClock;
  farm: FarmConfigT;
  /** Resolves with the runner's summary when the scenario has been played. */
  played: Promise<RunnerStats>;
  stop(): Promise<void>;
}

export async function playOnService(
  opts: { startTs: number; env?: Record<string, string>; /** Only these sites of the demo farm (all its rules). */ sites?: string[] } & Omit<
    SimulatorRunnerOptions,
    'farm' | 'brokerUrl' | 'secrets' | 'clock'
  >,
): Promise<LockstepFarm> {
  const { startTs, env, sites, ...runnerOptions } = opts;
  const clock = createSimClock(startTs);
  const demo = loadFarmConfig(DEMO_CONFIG);
  const farm = sites ? { ...demo, sites: demo.sites.filter((s) => sites.includes(s.id)) } : demo;
  const service = await startTestService({ clock, env, config: farm });
  const secrets = new Map(farm.sites.flatMap((s) => s.zones.flatMap((z) => z.devices.map((d) => [d.id, d.secret] as const))));
  const runner = createSimulatorRunner({
    farm,
    brokerUrl: `mqtt://127.0.0.1:${service.mqttPort}`,
    secrets: (id) => secrets.get(id),
    clock,
    serviceBus: service.bus,
    ...runnerOptions,
  });
  await runner.start();
  return {
    service,
    runner,
    clock,
    farm,
    played: runner.done,
    async stop() {
      await runner.stop();
      await service.cleanup();
    },
  };
}

/** Alerts and command records are written off the hot path: waits until what the store holds stops changing. */
export async function settledStore(service: LockstepFarm['service'], quietMs = 150): Promise<void> {
  const count = async () => (await service.store.alerts({ limit: 100_000 })).length + (await service.store.commands({ limit: 100_000 })).length;
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const now = await count();
    if (now === last) return;
    last = now;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}
