import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LOAD_METRICS, loadDeviceSpecs, loadFarm, probeSpec, writeFarm } from '../farm.js';
import { int, latencyRatio, num, ratio, spread, table } from '../format.js';
import { createLoadPool } from '../load/pool.js';
import { measureStoredLatency } from '../probes/stored-latency.js';
import { influxProbe, sqliteProbe, waitForCount, type StoreProbe } from '../probes/store.js';
import { cpuMeter } from '../procstat.js';
import { endStatus, status, step } from '../progress.js';
import { percentile, rateBetween, summarize } from '../stats.js';
import { createDatabase, dropDatabase } from '../targets/influx.js';
import { counterTotal, startService } from '../targets/service.js';
import { profileDir, type BenchContext, type Check, type Section } from '../context.js';

/**
 * Our pipeline (issue 7): N simulated devices -> broker -> validation -> store, the whole service as
 * `npm start` runs it. Sustained readings/s = the rate at which readings appear in the store (counted in the
 * store itself) during a max-rate phase; publish -> stored latency at a fixed moderate rate; every reading
 * counted at the end.
 */
interface PipelineRun {
  /** Readings/s arriving in the store (the sustained figure). */
  stored?: number;
  /** Readings/s the broker acknowledged (QoS 1) or the devices sent (QoS 0): durable in the store or outbox. */
  accepted?: number;
  p50?: number;
  p99?: number;
  probeMissing: number;
  serviceCpu: number;
  expected: number;
  counted: number;
  rejected: number;
}

async function pipelineRun(ctx: BenchContext, store: 'embedded' | 'influx', qos: 0 | 1, run: number, farmPath: string): Promise<PipelineRun> {
  const s = ctx.sizes;
  const label = `${store} QoS ${qos} run ${run}/${ctx.opts.runs}`;
  const dataDir = mkdtempSync(join(ctx.workDir, 'data-'));
  const database = `bench_${qos}_${run}_${Date.now()}`;
  let influxUrl: string | undefined;
  if (store === 'influx') {
    influxUrl = (await ctx.influxd()).url;
    await createDatabase(influxUrl, database);
  }
  step(`pipeline ${label}: starting the service`);
  const service = await startService({
    farmPath,
    dataDir,
    influx: influxUrl ? { url: influxUrl, database } : undefined,
    profileDir: profileDir(ctx, 'pipeline', `${store}-q${qos}`, run),
  });
  const probe: StoreProbe = store === 'embedded' ? sqliteProbe(dataDir, ['temperature']) : influxProbe(influxUrl!, database, ['temperature']);
  let pool: Awaited<ReturnType<typeof createLoadPool>> | undefined;
  try {
    pool = await createLoadPool(loadDeviceSpecs(s.devices), ctx.opts.workers);
    const c = await pool.connect({ host: '127.0.0.1', port: service.mqttPort, onProgress: (n) => status(`connecting devices: ${n}/${s.devices}`) });
    endStatus();
    if (c.connected < s.devices) throw new Error(`only ${c.connected} of ${s.devices} devices connected to the service (${c.lastError ?? 'no error given'})`);

    step(`pipeline ${label}: ${s.devices} devices publish as fast as acknowledged for ${s.throughputMs / 1000} s`);
    const samples: { at: number; count: number }[] = [];
    const accepted: { at: number; count: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const at = Date.now();
        samples.push({ at, count: await probe.count().catch(() => samples.at(-1)?.count ?? 0) });
        // Often enough for a few samples inside the measured window, rarely enough that counting does not load the store.
        await new Promise((r) => setTimeout(r, Math.min(2000, Math.max(250, s.throughputMs / 20))));
      }
    })();
    const cpu = cpuMeter(service.pid);
    const t = await pool.run({ qos, mode: 'max', durationMs: s.throughputMs, window: s.window, drainMs: 60_000 }, (p) => {
      accepted.push({ at: p.at, count: qos === 1 ? p.acked : p.sent });
      status(`sent ${int(p.sent)} | acked ${int(p.acked)} | stored ${int(samples.at(-1)?.count)} | devices waiting on the service ${p.waiting}/${s.devices}`);
    });
    const serviceCpu = cpu.stop();
    endStatus();
    const expectedSoFar = qos === 1 ? t.acked : t.sent;
    step(`pipeline ${label}: waiting until the store holds all ${int(expectedSoFar)} readings`);
    await waitForCount(probe, expectedSoFar, { quietMs: 20_000, maxMs: 300_000, onProgress: (n) => status(`stored ${int(n)} of ${int(expectedSoFar)}`) });
    sampling = false;
    await sampler;
    endStatus();
    const storedRate = rateBetween(samples, t.startedAt + s.warmupMs, t.endedAt);
    const acceptedRate = rateBetween(accepted, t.startedAt + s.warmupMs, t.endedAt);

    step(`pipeline ${label}: publish -> stored latency at ${int(s.latencyRate)} readings/s for ${s.latencyMs / 1000} s`);
    const [l, lat] = await Promise.all([
      pool.run({ qos, mode: 'rate', ratePerSec: s.latencyRate, durationMs: s.latencyMs, window: s.window }),
      measureStoredLatency({
        host: '127.0.0.1',
        port: service.mqttPort,
        device: probeSpec(),
        qos,
        everyMs: s.probeEveryMs,
        durationMs: s.latencyMs,
        pollMs: store === 'embedded' ? 5 : 10,
        store: probe,
        metric: 'temperature',
      }),
    ]);
    const expected = expectedSoFar + (qos === 1 ? l.acked + lat.acked : l.sent + lat.sent);
    const counted = await waitForCount(probe, expected, { quietMs: 20_000, maxMs: 300_000, onProgress: (n) => status(`stored ${int(n)} of ${int(expected)}`) });
    endStatus();
    const metrics = await service.metricsText();
    const rejected = counterTotal(metrics, 'farm_readings_rejected_total');
    // Devices over MQTT_RATE_LIMIT are held back or disconnected: the figure would then measure the limiter.
    const rateLimited = counterTotal(metrics, 'farm_mqtt_rate_limited_total');
    if (rateLimited > 0) step(`  note: ${int(rateLimited)} device(s) were disconnected for exceeding MQTT_RATE_LIMIT; use more devices (--devices) so each stays under it`);
    ctx.counts.push({ scenario: 'pipeline', label: `${store} QoS ${qos}`, run, expected, stored: counted, lost: Math.max(0, expected - counted) });
    const out: PipelineRun = {
      stored: storedRate,
      accepted: acceptedRate,
      p50: percentile(lat.latency, 50),
      p99: percentile(lat.latency, 99),
      probeMissing: lat.missing,
      serviceCpu,
      expected,
      counted,
      rejected,
    };
    step(
      `pipeline ${label}: stored ${num(storedRate)}/s (accepted ${num(acceptedRate)}/s), p50 ${num(out.p50)} ms, p99 ${num(out.p99)} ms, service CPU ${num(serviceCpu)} %, lost ${int(Math.max(0, expected - counted))}, rejected ${int(rejected)}`,
    );
    return out;
  } finally {
    await pool?.close();
    probe.close();
    await service.stop();
    if (influxUrl) await dropDatabase(influxUrl, database);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runPipeline(ctx: BenchContext): Promise<Section> {
  const s = ctx.sizes;
  const { path } = writeFarm(ctx.workDir, 'bench-load', loadFarm(s.devices));
  const rows: string[][] = [];
  const checks: Check[] = [];
  const data: Record<string, PipelineRun[]> = {};
  for (const store of ctx.opts.stores) {
    for (const qos of [0, 1] as const) {
      const runs: PipelineRun[] = [];
      for (let run = 1; run <= ctx.opts.runs; run++) runs.push(await pipelineRun(ctx, store, qos, run, path));
      data[`${store}-q${qos}`] = runs;
      const stored = summarize(runs.map((r) => r.stored));
      const acc = summarize(runs.map((r) => r.accepted));
      const p50 = summarize(runs.map((r) => r.p50));
      const p99 = summarize(runs.map((r) => r.p99));
      const fanIn = ctx.refs.fanIn[qos]?.median;
      const refLat = ctx.refs.fanInLatency[qos];
      const lost = runs.reduce((n, r) => n + Math.max(0, r.expected - r.counted), 0);
      const expected = runs.reduce((n, r) => n + r.expected, 0);
      const bound = store === 'influx' ? `${ratio(stored?.median, fanIn)} of broker fan-in; ${ratio(stored?.median, ctx.refs.influxRaw?.median)} of InfluxDB raw` : `${ratio(stored?.median, fanIn)} of broker fan-in`;
      rows.push([
        store === 'embedded' ? 'embedded (SQLite)' : 'InfluxDB 1.6 (via outbox)',
        `QoS ${qos}`,
        spread(stored),
        spread(acc),
        bound,
        `${spread(p50, 1)} / ${spread(p99, 1)}`,
        `${latencyRatio(p50?.median, refLat?.p50?.median)} / ${latencyRatio(p99?.median, refLat?.p99?.median)}`,
        spread(summarize(runs.map((r) => r.serviceCpu)), 0),
        `${num(lost, 0)} of ${num(expected, 0)}`,
      ]);
      if (store === 'influx' && qos === 0)
        checks.push({
          what: 'pipeline into InfluxDB at QoS 0 ≥ 50 % of the embedded broker’s raw fan-in',
          ok: stored && fanIn ? stored.median >= 0.5 * fanIn : undefined,
          detail: `${num(stored?.median)} vs ${num(fanIn)} readings/s (${ratio(stored?.median, fanIn)})`,
        });
    }
  }
  const body = [
    table(
      [
        'store',
        'QoS',
        'stored readings/s (sustained)',
        'accepted readings/s',
        'ratio to its raw reference',
        `publish → stored p50 / p99 (ms) at ${int(s.latencyRate)}/s`,
        'latency vs broker fan-in p50 / p99',
        'service CPU (% of a core)',
        'lost',
      ],
      rows,
    ),
    '',
    `${int(s.devices)} devices (shed sensors, ${LOAD_METRICS.join(' + ')} per reading) publish as fast as acknowledged for ${s.throughputMs / 1000} s; ` +
      `"stored" is the rate at which readings appear in the store itself (SQLite row count / InfluxDB count()), read after ${s.warmupMs / 1000} s of ramp-up; ` +
      `"accepted" is the PUBACK (QoS 1) or send (QoS 0) rate, i.e. durable in the store or the InfluxDB outbox. ` +
      `Latency: a probe device publishes every ${s.probeEveryMs} ms alongside ${int(s.latencyRate)} readings/s; the store is polled for its newest reading (every 5 ms SQLite, 10 ms InfluxDB). ` +
      'The service runs with the demo rules loaded and the dashboard up (no browser connected).',
  ].join('\n');
  return { title: 'Pipeline', body, checks, data };
}
