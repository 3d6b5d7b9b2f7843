import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_SITE, loadDeviceSpecs, loadFarm, probeSpec, VIEWER, writeFarm } from '../farm.js';
import { int, mb, num, table } from '../format.js';
import { spawnChild } from '../ipc.js';
import { createLoadPool } from '../load/pool.js';
import { measureStoredLatency } from '../probes/stored-latency.js';
import { influxProbe, sqliteProbe, waitForCount, type StoreProbe } from '../probes/store.js';
import { cpuMs, rssBytes } from '../procstat.js';
import { step } from '../progress.js';
import { merge, newHistogram, percentile, record, slope, unpack, type Histogram } from '../stats.js';
import { createDatabase, dropDatabase } from '../targets/influx.js';
import { counterTotal, startService } from '../targets/service.js';
import { profileDir, type BenchContext, type Check, type Section } from '../context.js';

/**
 * Soak (issue 6): N devices at a steady rate for a long time with dashboard clients watching, sampled every
 * interval: stored readings/s, publish -> stored p99, dashboard delivery p99, RSS and CPU of the service.
 * Memory must be flat: RSS at the end within 10 % of RSS at the start (first sample after 10 % of the soak).
 * The V8 heap in use is sampled too: RSS follows the garbage collector's sawtooth, the heap trend shows a leak.
 */
interface Sample {
  atSec: number;
  storedPerSec: number;
  storedP99?: number;
  dashboardP99?: number;
  rssMb: number;
  /** V8 heap in use (prom-client's nodejs_heap_size_used_bytes from /metrics): unlike RSS, not inflated by freed pages the allocator keeps. */
  heapMb?: number;
  cpuPct: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSoak(ctx: BenchContext): Promise<Section> {
  const s = ctx.sizes;
  const store = ctx.opts.stores[0];
  const { path } = writeFarm(ctx.workDir, 'bench-soak', loadFarm(s.soakDevices));
  const dataDir = mkdtempSync(join(ctx.workDir, 'data-'));
  const database = `bench_soak_${Date.now()}`;
  const influxUrl = store === 'influx' ? (await ctx.influxd()).url : undefined;
  if (influxUrl) await createDatabase(influxUrl, database);
  step(`soak: starting the service (${store} store)`);
  const service = await startService({
    farmPath: path,
    dataDir,
    influx: influxUrl ? { url: influxUrl, database } : undefined,
    profileDir: profileDir(ctx, 'soak', 'soak', 1),
  });
  const probe: StoreProbe = influxUrl ? influxProbe(influxUrl, database, ['temperature']) : sqliteProbe(dataDir, ['temperature']);
  const clients = spawnChild('./load/dashboard-clients.ts', 'socket.io clients');
  let pool: Awaited<ReturnType<typeof createLoadPool>> | undefined;
  try {
    pool = await createLoadPool(loadDeviceSpecs(s.soakDevices), ctx.opts.workers);
    const c = await pool.connect({ host: '127.0.0.1', port: service.mqttPort, concurrency: 200 });
    if (c.connected < s.soakDevices) throw new Error(`only ${c.connected} of ${s.soakDevices} devices connected (${c.lastError ?? 'no error given'})`);
    await clients.ready(60_000);
    clients.send({ type: 'start', url: service.url, clients: s.soakClients, site: BENCH_SITE, ...VIEWER });
    await clients.next('started', 180_000);
    clients.send({ type: 'measure', on: true });
    await clients.next('measured', 10_000);
    step(
      `soak: ${int(s.soakDevices)} devices at ${int(s.soakRate)} readings/s for ${num(s.soakMs / 60_000, 1)} min, ${s.soakClients} dashboard clients; a line every ${s.soakSampleMs / 1000} s`,
    );

    const startedAt = Date.now();
    let period = newHistogram();
    const storedAll = newHistogram();
    const dashboardAll = newHistogram();
    const load = pool.run({ qos: 1, mode: 'rate', ratePerSec: s.soakRate, durationMs: s.soakMs, window: s.window });
    const latency = measureStoredLatency({
      host: '127.0.0.1',
      port: service.mqttPort,
      device: probeSpec(),
      qos: 1,
      everyMs: 100,
      durationMs: s.soakMs,
      pollMs: influxUrl ? 10 : 5,
      store: probe,
      metric: 'temperature',
      onSample: (ms) => record(period, ms),
    });
    const samples: Sample[] = [];
    let lastCount = await probe.count();
    let lastAt = Date.now();
    let lastCpu = cpuMs(service.pid);
    while (Date.now() - startedAt < s.soakMs - 1000) {
      await sleep(Math.min(s.soakSampleMs, s.soakMs - (Date.now() - startedAt)));
      const now = Date.now();
      const count = await probe.count();
      const cpu = cpuMs(service.pid);
      const heap = await service.metricsText().then(
        (text) => counterTotal(text, 'farm_process_nodejs_heap_size_used_bytes'),
        () => undefined,
      );
      clients.send({ type: 'measure', on: true });
      const d = await clients.next('measured', 30_000);
      const dash = unpack(d.latency as Parameters<typeof unpack>[0]);
      merge(dashboardAll, dash);
      merge(storedAll, period);
      const sample: Sample = {
        atSec: Math.round((now - startedAt) / 1000),
        storedPerSec: (count - lastCount) / ((now - lastAt) / 1000),
        storedP99: percentile(period, 99),
        dashboardP99: percentile(dash, 99),
        rssMb: mb(rssBytes(service.pid))!,
        heapMb: heap ? mb(heap) : undefined,
        cpuPct: ((cpu - lastCpu) / (now - lastAt)) * 100,
      };
      period = newHistogram();
      samples.push(sample);
      [lastCount, lastAt, lastCpu] = [count, now, cpu];
      step(
        `soak ${num(sample.atSec / 60, 1)} min: stored ${num(sample.storedPerSec)}/s | publish→stored p99 ${num(sample.storedP99)} ms | dashboard p99 ${num(sample.dashboardP99)} ms | RSS ${num(sample.rssMb)} MB | heap ${num(sample.heapMb)} MB | CPU ${num(sample.cpuPct)} %`,
      );
    }
    const [l, lat] = await Promise.all([load, latency]);
    merge(storedAll, period);
    clients.send({ type: 'measure', on: false });
    const lastDash = await clients.next('measured', 30_000);
    merge(dashboardAll, unpack(lastDash.latency as Parameters<typeof unpack>[0]));
    const expected = l.acked + lat.acked;
    step(`soak: waiting until the store holds all ${int(expected)} readings`);
    const counted = await waitForCount(probe, expected, { quietMs: 20_000, maxMs: 300_000 });
    ctx.counts.push({ scenario: 'soak', label: `${s.soakDevices} devices`, run: 1, expected, stored: counted, lost: Math.max(0, expected - counted) });
    return soakSection(ctx, samples, { storedAll, dashboardAll, expected, counted, seconds: (l.endedAt - l.startedAt) / 1000, store });
  } finally {
    await clients.stop();
    await pool?.close();
    probe.close();
    await service.stop();
    if (influxUrl) await dropDatabase(influxUrl, database);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function soakSection(
  ctx: BenchContext,
  samples: Sample[],
  o: { storedAll: Histogram; dashboardAll: Histogram; expected: number; counted: number; seconds: number; store: string },
): Section {
  const s = ctx.sizes;
  const steady = samples.filter((x) => x.atSec * 1000 >= s.soakMs * 0.1);
  const start = steady[0] ?? samples[0];
  const end = samples[samples.length - 1];
  const growthMbPer10Min = slope(steady.map((x) => ({ x: x.atSec / 600, y: x.rssMb })));
  const heapSteady = steady.filter((x) => x.heapMb !== undefined);
  const heapGrowthMbPer10Min = heapSteady.length > 1 ? slope(heapSteady.map((x) => ({ x: x.atSec / 600, y: x.heapMb! }))) : undefined;
  const flat = start && end ? end.rssMb <= start.rssMb * 1.1 : undefined;
  const lost = Math.max(0, o.expected - o.counted);
  const worst = (f: (x: Sample) => number | undefined) => Math.max(...samples.map((x) => f(x) ?? 0));
  const checks: Check[] = [
    {
      what: 'soak: memory flat (RSS at the end within 10 % of the start)',
      ok: flat,
      detail: `${num(start?.rssMb)} MB → ${num(end?.rssMb)} MB, trend ${num(growthMbPer10Min, 2)} MB per 10 min; V8 heap in use ${num(start?.heapMb)} → ${num(end?.heapMb)} MB, trend ${num(heapGrowthMbPer10Min, 2)} MB per 10 min`,
    },
    { what: 'soak: no reading lost', ok: lost === 0, detail: `${num(lost, 0)} of ${num(o.expected, 0)}` },
  ];
  const body = [
    table(
      [
        'devices',
        'rate',
        'duration',
        'stored readings/s (mean)',
        'publish → stored p99 (ms), whole soak / worst interval',
        'dashboard p99 (ms), whole soak / worst interval',
        'RSS start → end (MB)',
        'RSS trend (MB / 10 min)',
        'heap in use start → end (MB)',
        'heap trend (MB / 10 min)',
        'lost',
      ],
      [
        [
          int(s.soakDevices),
          `${int(s.soakRate)}/s`,
          `${num(s.soakMs / 60_000, 1)} min`,
          num(o.counted / o.seconds),
          `${num(percentile(o.storedAll, 99), 1)} / ${num(
            worst((x) => x.storedP99),
            1,
          )}`,
          `${num(percentile(o.dashboardAll, 99), 1)} / ${num(
            worst((x) => x.dashboardP99),
            1,
          )}`,
          `${num(start?.rssMb)} → ${num(end?.rssMb)}`,
          num(growthMbPer10Min, 2),
          `${num(start?.heapMb)} → ${num(end?.heapMb)}`,
          num(heapGrowthMbPer10Min, 2),
          `${num(lost, 0)} of ${num(o.expected, 0)}`,
        ],
      ],
    ),
    '',
    `Store: ${o.store}; ${s.soakClients} dashboard clients on site ${BENCH_SITE}; a probe device publishes every 100 ms for the publish → stored latency. RSS start = first sample after 10 % of the soak. Heap in use: V8's, from the service's /metrics; RSS also counts freed memory the allocator has not returned yet.`,
    '',
    '<details><summary>Samples</summary>',
    '',
    table(
      ['t (s)', 'stored/s', 'stored p99 (ms)', 'dashboard p99 (ms)', 'RSS (MB)', 'heap in use (MB)', 'CPU (%)'],
      samples.map((x) => [String(x.atSec), num(x.storedPerSec), num(x.storedP99, 1), num(x.dashboardP99, 1), num(x.rssMb), num(x.heapMb), num(x.cpuPct)]),
    ),
    '',
    '</details>',
  ].join('\n');
  return { title: 'Soak', body, checks, data: { samples, expected: o.expected, counted: o.counted } };
}
