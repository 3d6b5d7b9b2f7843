import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startService } from '../app/service.js';
import { EnvSettings } from '../core/config/env.js';
import type { FarmConfigT } from '../core/config/schema.js';
import { indexFarm } from '../core/farm-index.js';
import { createLogger } from '../core/logger.js';
import type { ConditionT } from '../rules/schema.js';
import { collectReport, type ScenarioReport } from './report.js';
import { createSimulatorRunner, type RunnerStats } from './runner.js';
import { getScenario } from './scenarios.js';
import { createSimClock } from './sim-clock.js';

/**
 * A scenario against the whole service in this process, on the simulator's clock (lockstep: see README "Time"):
 * embedded broker, ingest, an embedded store in a scratch DATA_DIR, the rules engine with the farm file's rules,
 * and the simulated farm as real MQTT clients. Days play in seconds to minutes and meet every rule as they would
 * in real time. Returns the report of what the service did (report.ts).
 */
export interface InProcessOptions {
  farm: FarmConfigT;
  scenario: string;
  seed?: number;
  /** Simulated seconds to play; default the scenario's own length. */
  durationSec?: number;
  /** Simulated start, epoch ms; default the scenario's `start` (when it happened), else now. */
  startTs?: number;
  /** Only these sites of the farm (with all its rules): faster when the others do not matter. */
  sites?: string[];
  /** Simulated seconds between two readings of a sensor, and of one lockstep step (default 300). */
  reportEverySec?: number;
  logger?: Logger;
  onProgress?(stats: RunnerStats): void;
}

export async function runInProcess(o: InProcessOptions): Promise<ScenarioReport> {
  const scenario = getScenario(o.scenario);
  const seed = o.seed ?? 1;
  const farm = o.sites ? { ...o.farm, sites: o.farm.sites.filter((s) => o.sites!.includes(s.id)) } : o.farm;
  const index = indexFarm(farm);
  const startTs = o.startTs ?? (scenario.start ? Date.parse(scenario.start) : Date.now());
  const durationSec = o.durationSec ?? scenario.durationSec;
  const everySec = o.reportEverySec ?? 300;
  const clock = createSimClock(startTs);
  const dataDir = mkdtempSync(join(tmpdir(), 'farm-simulate-'));
  const logger = o.logger ?? createLogger('silent');
  const env = EnvSettings.parse({
    DATA_DIR: dataDir,
    MQTT_PORT: '0',
    HTTP_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    BATCH_INTERVAL: '2ms',
  });
  const service = await startService({ env, config: farm, logger, simulate: false, clock });
  const ranks = levelRanks(farm);
  const collector = collectReport(service.bus, {
    timeZoneOf: (site) => index.timeZone(site),
    levelRank: (rule, level) => ranks.get(`${rule}|${level}`) ?? 0,
    actuatorType: (device) => index.device(device)?.type,
  });
  const secrets = new Map(index.devices().map((d) => [d.device, d.config.secret]));
  const runner = createSimulatorRunner({
    farm,
    brokerUrl: `mqtt://127.0.0.1:${service.mqttPort}`,
    secrets: (id) => secrets.get(id),
    scenario,
    seed,
    speed: 1e9, // as fast as the service takes it in
    clock,
    serviceBus: service.bus,
    stepSec: everySec,
    reportEverySec: everySec,
    durationSec,
    logger,
    onProgress: o.onProgress,
  });
  try {
    await runner.start();
    const stats = await runner.done;
    const rejected = Object.values(service.ingest.stats().rejected).reduce((a, b) => a + b, 0);
    return collector.report({
      scenario: scenario.name,
      description: scenario.description,
      seed,
      timeZone: index.timeZone(farm.sites[0].id),
      start: startTs,
      end: clock.now(),
      sites: farm.sites.map((s) => s.id),
      runner: { stalls: stats.stalls, errors: stats.errors, sent: stats.sent, rejected },
      facts: runner.simulation.facts(),
    });
  } finally {
    await runner.stop();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Where each level stands in its rule's list (mildest first), to tell the worst level an alert reached. */
function levelRanks(farm: FarmConfigT): Map<string, number> {
  const ranks = new Map<string, number>();
  const walk = (rule: string, c: ConditionT): void => {
    if ('all' in c) c.all.forEach((x) => walk(rule, x));
    else if ('any' in c) c.any.forEach((x) => walk(rule, x));
    else if ('metric' in c) c.levels?.forEach((l, i) => ranks.set(`${rule}|${l.name}`, i));
  };
  for (const rule of farm.rules) walk(rule.id, rule.when);
  return ranks;
}
