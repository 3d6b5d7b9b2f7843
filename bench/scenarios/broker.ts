import { loadDeviceSpecs, loadFarm, writeFarm } from '../farm.js';
import { int, num, ratio, spread, table } from '../format.js';
import { spawnChild } from '../ipc.js';
import { createLoadPool } from '../load/pool.js';
import { cpuMeter } from '../procstat.js';
import { endStatus, status, step } from '../progress.js';
import { percentile, rateBetween, summarize, unpack } from '../stats.js';
import { mosquittoMissing, startEmbeddedBroker, startMosquitto, type BrokerUnderTest } from '../targets/brokers.js';
import { createDatabase, dropDatabase, rawWriteRate } from '../targets/influx.js';
import { profileDir, type BenchContext, type Section } from '../context.js';
import { capacityRun, type CapacityRun } from './capacity.js';

/**
 * Raw references (issue 7 a-c, issue 18): how fast readings go through a broker with nothing behind it to one
 * subscriber (the embedded broker alone, and Mosquitto, with the same load generators), and how fast one client
 * can write line protocol into InfluxDB in large batches. Two load generators per broker: the capacity (a few
 * pipelined publishers, open loop: capacity.ts), which the pipeline's ratios use, and 1,000 devices that each
 * wait for their acknowledgements (closed loop), which also gives the latency at a moderate rate.
 */
interface FanInRun {
  throughput?: number;
  p50?: number;
  p99?: number;
  expected: number;
  received: number;
  brokerCpu: number;
  generatorCpu: number;
}

export async function fanInRun(ctx: BenchContext, target: 'embedded' | 'mosquitto', qos: 0 | 1, run: number, farmPath: string): Promise<FanInRun> {
  const s = ctx.sizes;
  const label = `${target} QoS ${qos} run ${run}/${ctx.opts.runs}`;
  step(`fan-in ${label}: starting ${target === 'embedded' ? 'the embedded broker' : 'Mosquitto'}`);
  const broker: BrokerUnderTest =
    target === 'embedded' ? await startEmbeddedBroker(farmPath, profileDir(ctx, 'broker', `embedded-q${qos}`, run)) : await startMosquitto(ctx.workDir);
  const subscriber = spawnChild('./load/subscriber.ts', 'fan-in subscriber');
  let pool: Awaited<ReturnType<typeof createLoadPool>> | undefined;
  try {
    await subscriber.ready(60_000);
    subscriber.send({ type: 'start', host: '127.0.0.1', port: broker.port, ...broker.subscriber, filter: 'farm/+/+/+/telemetry', qos });
    await subscriber.next('subscribed', 30_000);
    const samples: { at: number; count: number }[] = [];
    let received = 0;
    subscriber.on('progress', (m) => {
      received = m.received as number;
      samples.push({ at: m.at as number, count: received });
    });

    pool = await createLoadPool(loadDeviceSpecs(s.devices), ctx.opts.workers);
    const c = await pool.connect({ host: '127.0.0.1', port: broker.port, onProgress: (n) => status(`connecting devices: ${n}/${s.devices}`) });
    endStatus();
    if (c.connected < s.devices)
      throw new Error(`only ${c.connected} of ${s.devices} devices connected to ${broker.name} (${c.lastError ?? 'no error given'})`);

    step(`fan-in ${label}: ${s.devices} devices publish as fast as acknowledged for ${s.throughputMs / 1000} s`);
    const brokerCpu = cpuMeter(broker.pid);
    const genCpu = pool.pids.map((pid) => cpuMeter(pid));
    const t = await pool.run({ qos, mode: 'max', durationMs: s.throughputMs, window: s.window }, (p) =>
      status(`sent ${int(p.sent)} | acked ${int(p.acked)} | received ${int(received)} | devices waiting on the broker ${p.waiting}/${s.devices}`),
    );
    const brokerCpuPct = brokerCpu.stop();
    const generatorCpu = genCpu.reduce((sum, m) => sum + m.stop(), 0);
    endStatus();
    const throughput = rateBetween(samples, t.startedAt + s.warmupMs, t.endedAt);
    // A broker may acknowledge faster than it delivers: let its queue for the subscriber empty before timing latency.
    const afterThroughput = qos === 1 ? t.acked : t.sent;
    await waitForReceived(
      () => received,
      afterThroughput,
      (n) => status(`subscriber received ${int(n)} of ${int(afterThroughput)}`),
    );
    endStatus();

    step(`fan-in ${label}: latency at ${int(s.latencyRate)} msg/s for ${s.latencyMs / 1000} s`);
    subscriber.send({ type: 'measure', on: true });
    await subscriber.next('measured', 10_000);
    const l = await pool.run({ qos, mode: 'rate', ratePerSec: s.latencyRate, durationMs: s.latencyMs, window: s.window }, (p) =>
      status(`sent ${int(p.sent)} | received ${int(received)}`),
    );
    endStatus();
    subscriber.send({ type: 'measure', on: false });
    const measured = await subscriber.next('measured', 10_000);
    const latency = unpack(measured.latency as Parameters<typeof unpack>[0]);

    const expected = afterThroughput + (qos === 1 ? l.acked : l.sent);
    await waitForReceived(() => received, expected);
    ctx.counts.push({ scenario: 'broker', label: `${broker.name} fan-in QoS ${qos}`, run, expected, stored: received, lost: Math.max(0, expected - received) });
    const out = { throughput, p50: percentile(latency, 50), p99: percentile(latency, 99), expected, received, brokerCpu: brokerCpuPct, generatorCpu };
    step(
      `fan-in ${label}: ${num(throughput)} msg/s, p50 ${num(out.p50)} ms, p99 ${num(out.p99)} ms, broker CPU ${num(brokerCpuPct)} %, lost ${int(Math.max(0, expected - received))}`,
    );
    return out;
  } finally {
    await pool?.close();
    await subscriber.stop();
    await broker.stop();
  }
}

export async function runBroker(ctx: BenchContext, o: { mosquitto: boolean; influx: boolean }): Promise<Section> {
  const s = ctx.sizes;
  const { path } = writeFarm(ctx.workDir, 'bench-load', loadFarm(s.devices));
  const targets: ('embedded' | 'mosquitto')[] = ['embedded'];
  if (o.mosquitto) {
    const missing = mosquittoMissing();
    if (missing) throw new Error(missing);
    targets.push('mosquitto');
  }
  const rows: string[][] = [];
  const data: Record<string, FanInRun[] | CapacityRun[]> = {};
  const names = { embedded: 'embedded broker alone (aedes, same auth and topic policy)', mosquitto: 'Mosquitto (Debian, anonymous, no persistence)' };
  for (const target of targets) {
    for (const qos of [0, 1] as const) {
      const capacity: CapacityRun[] = [];
      for (let run = 1; run <= ctx.opts.runs; run++) capacity.push(await capacityRun(ctx, target, qos, run, path));
      const runs: FanInRun[] = [];
      for (let run = 1; run <= ctx.opts.runs; run++) runs.push(await fanInRun(ctx, target, qos, run, path));
      data[`${target}-q${qos}-capacity`] = capacity;
      data[`${target}-q${qos}`] = runs;
      const cap = summarize(capacity.map((r) => r.rate));
      const thr = summarize(runs.map((r) => r.throughput));
      const p50 = summarize(runs.map((r) => r.p50));
      const p99 = summarize(runs.map((r) => r.p99));
      if (target === 'embedded') {
        ctx.refs.capacity[qos] = cap;
        ctx.refs.fanIn[qos] = thr;
        ctx.refs.fanInLatency[qos] = { p50, p99 };
      }
      const lost = runs.reduce((n, r) => n + Math.max(0, r.expected - r.received), 0) + capacity.reduce((n, r) => n + Math.max(0, r.expected - r.counted), 0);
      const expected = runs.reduce((n, r) => n + r.expected, 0) + capacity.reduce((n, r) => n + r.expected, 0);
      rows.push([
        `${names[target]} → 1 subscriber`,
        `QoS ${qos}`,
        `${spread(cap)} msg/s`,
        `${spread(thr)} msg/s`,
        target === 'mosquitto' ? `${ratio(cap?.median, ctx.refs.capacity[qos]?.median)} / ${ratio(thr?.median, ctx.refs.fanIn[qos]?.median)}` : '',
        `${spread(p50, 1)} / ${spread(p99, 1)}`,
        `${spread(summarize(capacity.map((r) => r.targetCpu)), 0)} % / ${spread(summarize(capacity.map((r) => r.generatorCpu)), 0)} %`,
        `${num(lost, 0)} of ${num(expected, 0)}`,
      ]);
    }
  }
  if (o.influx) {
    const influxd = await ctx.influxd();
    const runs: { pointsPerSec: number; written: number; counted: number }[] = [];
    for (let run = 1; run <= ctx.opts.runs; run++) {
      const db = `bench_raw_${run}`;
      await createDatabase(influxd.url, db);
      step(`InfluxDB raw write run ${run}/${ctx.opts.runs}: ${int(s.influxBatchLines)}-line batches from one client for ${s.influxMs / 1000} s`);
      const r = await rawWriteRate(influxd.url, db, {
        batchLines: s.influxBatchLines,
        durationMs: s.influxMs,
        devices: s.devices,
        onProgress: (n) => status(`${int(n)} points written`),
      });
      endStatus();
      step(`InfluxDB raw write run ${run}: ${num(r.pointsPerSec)} points/s (${int(r.counted)} of ${int(r.written)} counted back)`);
      ctx.counts.push({
        scenario: 'broker',
        label: 'InfluxDB raw write',
        run,
        expected: r.written,
        stored: r.counted,
        lost: Math.max(0, r.written - r.counted),
      });
      runs.push(r);
      await dropDatabase(influxd.url, db);
    }
    data.influxRaw = runs as never;
    ctx.refs.influxRaw = summarize(runs.map((r) => r.pointsPerSec));
    const lost = runs.reduce((n, r) => n + Math.max(0, r.written - r.counted), 0);
    rows.push([
      `InfluxDB 1.6 line protocol, ${int(s.influxBatchLines)}-line batches, 1 client (HTTP /write, precision ms)`,
      '–',
      `${spread(ctx.refs.influxRaw)} points/s`,
      '–',
      '',
      '–',
      '–',
      `${num(lost, 0)} of ${num(
        runs.reduce((n, r) => n + r.written, 0),
        0,
      )}`,
    ]);
  }
  const body = [
    table(
      [
        'reference',
        'QoS',
        `capacity: ${s.publishers} pipelined publishers (open loop)`,
        `${int(s.devices)} devices, each waiting for its acknowledgements (closed loop)`,
        'vs embedded (capacity / closed loop)',
        `latency p50 / p99 (ms) at ${int(s.latencyRate)} msg/s`,
        'CPU broker / load generator, capacity runs (% of a core)',
        'lost',
      ],
      rows,
    ),
    '',
    `Capacity: ${s.publishers} publishers (one device and connection each) write ${int(s.perPublisher)} readings each as fast as their connections take them (QoS 1: up to ${int(s.pipelinedWindow)} unacknowledged each), as emqtt-bench does; rate = readings ÷ time from the first write until the subscriber had the last one. ` +
      `This is the reference the pipeline's ratios use. Closed loop: devices publish as fast as the broker acknowledges (QoS 1: ${s.window} unacknowledged per device; QoS 0: a PINGREQ after every ${s.window}, at most two unanswered), rate read at the subscriber after ${s.warmupMs / 1000} s of ramp-up; it measures the generator's round trips as much as the broker. ` +
      'Latency: publish → subscriber receive at a moderate rate (closed-loop generator), ±1 ms (epoch-ms stamps). The per-device rate limit (MQTT_RATE_LIMIT) is lifted for the capacity runs.',
  ].join('\n');
  return { title: 'Raw references', body, checks: [], data };
}

/** Waits until the subscriber has `expected` messages, or nothing more arrived for 5 s (the rest is lost), at most 5 min. */
async function waitForReceived(received: () => number, expected: number, onProgress?: (n: number) => void): Promise<void> {
  const deadline = Date.now() + 300_000;
  let last = -1;
  let quietSince = Date.now();
  while (received() < expected && Date.now() < deadline && Date.now() - quietSince < 5000) {
    if (received() !== last) [last, quietSince] = [received(), Date.now()];
    onProgress?.(received());
    await new Promise((r) => setTimeout(r, 100));
  }
}
