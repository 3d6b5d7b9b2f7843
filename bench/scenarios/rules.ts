import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_SECRET, ruleInstanceCount, SCALED_COUNT_METRICS, scaledDemoFarm, scaledSensorSpecs, writeFarm } from '../farm.js';
import { int, num, spread, table } from '../format.js';
import { createLoadPool } from '../load/pool.js';
import { measureRulesLatency } from '../probes/rules-latency.js';
import { sqliteProbe, waitForCount } from '../probes/store.js';
import { cpuMeter } from '../procstat.js';
import { endStatus, status, step } from '../progress.js';
import { percentile, summarize } from '../stats.js';
import { startService } from '../targets/service.js';
import { profileDir, type BenchContext, type Check, type Section } from '../context.js';

/**
 * Rules (issue 3): sensor publish -> actuator command received, at 1,000 and 5,000 readings/s of background
 * load from every sensor of a farm made of K copies of the demo farm, all demo rules loaded (site-scoped ones
 * copied per site), so hundreds of rule instances evaluate the load. The probe is shed-1 of the first copy:
 * its h2s crosses the demo rule `shed-h2s` (fan on above 10 ppm, off below 5) every probe interval.
 */
const PROBE_SITE = 'huyang-s1';
const PROBE_ZONE = 'shed-1';
const SENSOR = 'shed-1-env-s1';
const FAN = 'shed-1-fan-s1';

interface RulesRun {
  p50?: number;
  p99?: number;
  commands: number;
  missed: number;
  achievedRate?: number;
  serviceCpu: number;
  expected: number;
  counted: number;
}

async function rulesRun(ctx: BenchContext, rate: number, run: number, farmPath: string, sensors: ReturnType<typeof scaledSensorSpecs>): Promise<RulesRun> {
  const s = ctx.sizes;
  const label = `${int(rate)} readings/s run ${run}/${ctx.opts.runs}`;
  const dataDir = mkdtempSync(join(ctx.workDir, 'data-'));
  step(`rules ${label}: starting the service on the scaled demo farm`);
  const service = await startService({ farmPath, dataDir, profileDir: profileDir(ctx, 'rules', `${rate}`, run) });
  const probe = sqliteProbe(dataDir, SCALED_COUNT_METRICS);
  let pool: Awaited<ReturnType<typeof createLoadPool>> | undefined;
  try {
    pool = await createLoadPool(sensors, ctx.opts.workers);
    const c = await pool.connect({ host: '127.0.0.1', port: service.mqttPort, onProgress: (n) => status(`connecting sensors: ${n}/${sensors.length}`) });
    endStatus();
    if (c.connected < sensors.length) throw new Error(`only ${c.connected} of ${sensors.length} sensors connected (${c.lastError ?? 'no error given'})`);
    step(`rules ${label}: ${sensors.length} sensors at ${int(rate)} readings/s, probe every ${s.rulesProbeEveryMs} ms for ${s.rulesMs / 1000} s`);
    const base = `farm/${PROBE_SITE}/${PROBE_ZONE}`;
    const startedAt = Date.now();
    let measuring = false;
    const warm = setTimeout(() => (measuring = true), s.warmupMs);
    let cpu: ReturnType<typeof cpuMeter> | undefined;
    const cpuStart = setTimeout(() => (cpu = cpuMeter(service.pid)), s.warmupMs);
    const [load, probeResult] = await Promise.all([
      pool.run({ qos: 1, mode: 'rate', ratePerSec: rate, durationMs: s.warmupMs + s.rulesMs, window: s.window }, (p) =>
        status(`sent ${int(p.sent)} | acked ${int(p.acked)} | behind ${int(p.behind)}`),
      ),
      measureRulesLatency({
        host: '127.0.0.1',
        port: service.mqttPort,
        sensor: {
          id: SENSOR,
          password: BENCH_SECRET,
          topic: `${base}/${SENSOR}/telemetry`,
          statusTopic: `${base}/${SENSOR}/status`,
          metrics: ['temperature', 'humidity', 'nh3', 'h2s', 'co2', 'light'],
        },
        actuator: { id: FAN, password: BENCH_SECRET, cmdTopic: `${base}/${FAN}/cmd`, stateTopic: `${base}/${FAN}/state` },
        metric: 'h2s',
        fire: 15,
        clear: 1,
        everyMs: s.rulesProbeEveryMs,
        durationMs: s.warmupMs + s.rulesMs,
        measuring: () => measuring,
      }),
    ]);
    clearTimeout(warm);
    clearTimeout(cpuStart);
    const serviceCpu = cpu?.stop() ?? 0;
    endStatus();
    const achievedRate = load.sent / ((load.endedAt - startedAt) / 1000);
    const expected = load.acked + probeResult.acked;
    const counted = await waitForCount(probe, expected, { quietMs: 15_000, maxMs: 120_000, onProgress: (n) => status(`stored ${int(n)} of ${int(expected)}`) });
    endStatus();
    ctx.counts.push({ scenario: 'rules', label: `${int(rate)} readings/s`, run, expected, stored: counted, lost: Math.max(0, expected - counted) });
    const out: RulesRun = {
      p50: percentile(probeResult.latency, 50),
      p99: percentile(probeResult.latency, 99),
      commands: probeResult.latency.total,
      missed: probeResult.missed,
      achievedRate,
      serviceCpu,
      expected,
      counted,
    };
    step(
      `rules ${label}: p50 ${num(out.p50)} ms, p99 ${num(out.p99)} ms over ${out.commands} commands (missed ${out.missed}), service CPU ${num(serviceCpu)} %, lost ${int(Math.max(0, expected - counted))}`,
    );
    return out;
  } finally {
    await pool?.close();
    probe.close();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runRules(ctx: BenchContext): Promise<Section> {
  const s = ctx.sizes;
  const { path, config } = writeFarm(ctx.workDir, `bench-rules-x${s.rulesScale}`, scaledDemoFarm(s.rulesScale));
  const instances = ruleInstanceCount(config);
  const sensors = scaledSensorSpecs(config, [SENSOR]);
  const rows: string[][] = [];
  const checks: Check[] = [];
  const data: Record<string, RulesRun[]> = {};
  for (const rate of s.rulesRates) {
    const runs: RulesRun[] = [];
    for (let run = 1; run <= ctx.opts.runs; run++) runs.push(await rulesRun(ctx, rate, run, path, sensors));
    data[`${rate}`] = runs;
    const p99 = summarize(runs.map((r) => r.p99));
    const lost = runs.reduce((n, r) => n + Math.max(0, r.expected - r.counted), 0);
    rows.push([
      `${int(rate)} readings/s (achieved ${spread(summarize(runs.map((r) => r.achievedRate)))})`,
      `${config.rules.length} rules, ${int(instances)} instances, ${sensors.length + 1} sensors`,
      spread(summarize(runs.map((r) => r.p50)), 1),
      spread(p99, 1),
      `${num(
        runs.reduce((n, r) => n + r.commands, 0),
        0,
      )} (missed ${num(
        runs.reduce((n, r) => n + r.missed, 0),
        0,
      )})`,
      spread(summarize(runs.map((r) => r.serviceCpu)), 0),
      `${num(lost, 0)} of ${num(
        runs.reduce((n, r) => n + r.expected, 0),
        0,
      )}`,
    ]);
    // Every rate has the same target (issue 18: 5,000 readings/s too).
    checks.push({ what: `rules p99 < 10 ms at ${int(rate)} readings/s`, ok: p99 ? p99.median < 10 : undefined, detail: `${num(p99?.median, 1)} ms` });
  }
  const body = [
    table(['background load', 'rules loaded', 'publish → command p50 (ms)', 'p99 (ms)', 'commands timed', 'service CPU (% of a core)', 'lost'], rows),
    '',
    `Farm: the demo farm copied ${s.rulesScale}× (${config.sites.length} sites). Every sensor but the probe publishes calm readings (QoS 1) that evaluate rules without firing them; ` +
      `the probe sensor ${SENSOR} alternates h2s 15 / 1 ppm every ${s.rulesProbeEveryMs} ms, and its fan ${FAN} (a real MQTT actuator that acknowledges each command) times each command from the publish of the reading. ` +
      `The first ${s.warmupMs / 1000} s are not timed.`,
  ].join('\n');
  return { title: 'Rules', body, checks, data };
}
