import { loadDeviceSpecs } from '../farm.js';
import { int, num } from '../format.js';
import { spawnChild } from '../ipc.js';
import { createLoadPool, type LoadPool } from '../load/pool.js';
import type { RunResult } from '../load/protocol.js';
import { cpuMeter } from '../procstat.js';
import { endStatus, status, step } from '../progress.js';
import { completionRate } from '../stats.js';
import { startEmbeddedBroker, startMosquitto, type BrokerUnderTest } from '../targets/brokers.js';
import { profileDir, type BenchContext } from '../context.js';

/**
 * Capacity, open loop (issue 18): a few publishers, each one device on its own connection, write a fixed number of
 * readings as fast as their TCP connections take them (QoS 1: up to `pipelinedWindow` unacknowledged), as broker
 * benchmark tools such as emqtt-bench do. Nothing waits for a round trip between publishes, so the figure is what
 * the system under test can take, not how fast a generator of 1,000 waiting devices can offer it.
 * The rate is the readings sent divided by the time from the first write until the last one arrived where it is
 * counted (the fan-in subscriber here; the store in the pipeline), so queues left inside the system count.
 */
export interface CapacityRun {
  /** Readings/s, first write to last arrival. */
  rate?: number;
  expected: number;
  counted: number;
  seconds?: number;
  targetCpu: number;
  generatorCpu: number;
}

/** The bench lifts the per-device rate limit for these runs: a few devices each send tens of thousands a second. */
export const LIFTED_RATE_LIMIT = { MQTT_RATE_LIMIT: '10000000', MQTT_RATE_BURST: '10000000' };

/** A count of arrived readings and when it was taken. */
export interface CountSample {
  at: number;
  count: number;
}

/** One pipelined phase against a running target; `count` reads how many readings arrived where they are counted. */
export async function pipelinedPhase(
  ctx: BenchContext,
  o: { pool: LoadPool; qos: 0 | 1; targetPid: number; label: string; count: () => CountSample | Promise<CountSample>; sampleMs: number; quietMs: number },
): Promise<CapacityRun & { result: RunResult }> {
  const s = ctx.sizes;
  const total = s.publishers * s.perPublisher;
  step(
    `${o.label}: ${s.publishers} pipelined publishers send ${int(s.perPublisher)} readings each (QoS ${o.qos}${o.qos === 1 ? `, up to ${int(s.pipelinedWindow)} unacknowledged each` : ''})`,
  );
  const samples: CountSample[] = [];
  const targetCpu = cpuMeter(o.targetPid);
  const genCpu = o.pool.pids.map((pid) => cpuMeter(pid));
  const result = await o.pool.run(
    { qos: o.qos, mode: 'pipelined', perDevice: s.perPublisher, window: s.pipelinedWindow, durationMs: s.pipelinedMaxMs, drainMs: 60_000 },
    (p) => status(`sent ${int(p.sent)} of ${int(total)} | acked ${int(p.acked)} | publishers waiting on the target ${p.waiting}/${s.publishers}`),
  );
  const generatorCpu = genCpu.reduce((sum, m) => sum + m.stop(), 0);
  endStatus();
  const expected = o.qos === 1 ? result.acked : result.sent;
  // Counted until all arrived, or nothing more arrived for quietMs (the rest is lost).
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const sample = await o.count();
    samples.push(sample);
    const n = sample.count;
    status(`${o.label}: ${int(n)} of ${int(expected)} arrived`);
    if (n >= expected) break;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > o.quietMs) break;
    await new Promise((r) => setTimeout(r, o.sampleMs));
  }
  const targetCpuPct = targetCpu.stop();
  endStatus();
  const counted = samples.at(-1)?.count ?? 0;
  const rate = counted >= expected ? completionRate(samples, expected, result.startedAt) : undefined;
  const out = { rate, expected, counted, seconds: rate ? expected / rate : undefined, targetCpu: targetCpuPct, generatorCpu, result };
  step(
    `${o.label}: ${num(rate)} readings/s (${int(expected)} in ${num(out.seconds, 1)} s), CPU target ${num(targetCpuPct)} % / generator ${num(generatorCpu)} %, lost ${int(Math.max(0, expected - counted))}`,
  );
  return out;
}

/** The broker's capacity: pipelined publishers -> broker -> one subscriber that counts. */
export async function capacityRun(ctx: BenchContext, target: 'embedded' | 'mosquitto', qos: 0 | 1, run: number, farmPath: string): Promise<CapacityRun> {
  const label = `capacity ${target} QoS ${qos} run ${run}/${ctx.opts.runs}`;
  step(`${label}: starting ${target === 'embedded' ? 'the embedded broker' : 'Mosquitto'}`);
  const broker: BrokerUnderTest =
    target === 'embedded'
      ? await startEmbeddedBroker(farmPath, profileDir(ctx, 'broker', `capacity-embedded-q${qos}`, run), LIFTED_RATE_LIMIT)
      : await startMosquitto(ctx.workDir);
  const subscriber = spawnChild('./load/subscriber.ts', 'capacity subscriber');
  let pool: LoadPool | undefined;
  try {
    await subscriber.ready(60_000);
    subscriber.send({ type: 'start', host: '127.0.0.1', port: broker.port, ...broker.subscriber, filter: 'farm/+/+/+/telemetry', qos });
    await subscriber.next('subscribed', 30_000);
    let received: CountSample = { at: Date.now(), count: 0 };
    subscriber.on('progress', (m) => void (received = { at: m.at as number, count: m.received as number }));
    pool = await createLoadPool(loadDeviceSpecs(ctx.sizes.publishers), 1);
    const c = await pool.connect({ host: '127.0.0.1', port: broker.port });
    if (c.connected < ctx.sizes.publishers)
      throw new Error(`only ${c.connected} of ${ctx.sizes.publishers} publishers connected to ${broker.name} (${c.lastError ?? 'no error given'})`);
    const r = await pipelinedPhase(ctx, { pool, qos, targetPid: broker.pid, label, count: () => received, sampleMs: 50, quietMs: 5_000 });
    ctx.counts.push({
      scenario: 'broker',
      label: `${broker.name} capacity QoS ${qos}`,
      run,
      expected: r.expected,
      stored: r.counted,
      lost: Math.max(0, r.expected - r.counted),
    });
    const { result: _result, ...out } = r;
    return out;
  } finally {
    await pool?.close();
    await subscriber.stop();
    await broker.stop();
  }
}
