import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_SITE, loadDeviceSpecs, loadFarm, VIEWER, writeFarm } from '../farm.js';
import { int, num, spread, table } from '../format.js';
import { spawnChild } from '../ipc.js';
import { createLoadPool } from '../load/pool.js';
import { sqliteProbe, waitForCount } from '../probes/store.js';
import { cpuMeter } from '../procstat.js';
import { endStatus, status, step } from '../progress.js';
import { percentile, summarize, unpack } from '../stats.js';
import { startService } from '../targets/service.js';
import { profileDir, type BenchContext, type Check, type Section } from '../context.js';

/**
 * Dashboard (issue 4): socket.io clients viewing one site while its devices publish at a fixed rate.
 * Delivery latency = when a client receives a reading minus the reading's publish time; service CPU is
 * measured first without clients (baseline) and then with them.
 */
interface DashboardRun {
  p50?: number;
  p99?: number;
  cpuWith: number;
  cpuWithout: number;
  /** The process holding all socket.io clients: near 100 % means it, not the service, adds latency. */
  clientsCpu: number;
  events: number;
  readingsDelivered: number;
  connected: number;
  expected: number;
  counted: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function dashboardRun(ctx: BenchContext, run: number, farmPath: string): Promise<DashboardRun> {
  const s = ctx.sizes;
  const label = `run ${run}/${ctx.opts.runs}`;
  const dataDir = mkdtempSync(join(ctx.workDir, 'data-'));
  step(`dashboard ${label}: starting the service`);
  const service = await startService({ farmPath, dataDir, profileDir: profileDir(ctx, 'dashboard', 'dashboard', run) });
  const probe = sqliteProbe(dataDir, ['temperature']);
  const clients = spawnChild('./load/dashboard-clients.ts', 'socket.io clients');
  let pool: Awaited<ReturnType<typeof createLoadPool>> | undefined;
  try {
    pool = await createLoadPool(loadDeviceSpecs(s.dashboardDevices), ctx.opts.workers);
    await pool.connect({ host: '127.0.0.1', port: service.mqttPort });
    step(
      `dashboard ${label}: ${s.dashboardDevices} devices at ${int(s.dashboardRate)} readings/s; baseline without clients for ${s.dashboardBaselineMs / 1000} s`,
    );
    const load = pool.run({ qos: 1, mode: 'rate', ratePerSec: s.dashboardRate, durationMs: 3_600_000, window: s.window });
    await sleep(Math.min(2000, s.warmupMs));
    const base = cpuMeter(service.pid);
    await sleep(s.dashboardBaselineMs);
    const cpuWithout = base.stop();

    await clients.ready(60_000);
    const off = clients.on('connecting', (m) => status(`socket.io clients connected: ${m.connected as number}/${s.dashboardClients}`));
    clients.send({ type: 'start', url: service.url, clients: s.dashboardClients, site: BENCH_SITE, ...VIEWER });
    const started = await clients.next('started', 180_000);
    off();
    endStatus();
    step(`dashboard ${label}: ${started.connected as number} clients on site ${BENCH_SITE}; measuring for ${s.dashboardMs / 1000} s`);
    await sleep(Math.min(2000, s.warmupMs));
    clients.send({ type: 'measure', on: true });
    await clients.next('measured', 10_000);
    const cpu = cpuMeter(service.pid);
    const clientCpu = cpuMeter(clients.pid);
    await sleep(s.dashboardMs);
    const cpuWith = cpu.stop();
    const clientsCpu = clientCpu.stop();
    clients.send({ type: 'measure', on: false });
    const m = await clients.next('measured', 30_000);
    const latency = unpack(m.latency as Parameters<typeof unpack>[0]);
    pool.stopEarly();
    const l = await load;
    const expected = l.acked;
    const counted = await waitForCount(probe, expected, { quietMs: 15_000, maxMs: 120_000 });
    ctx.counts.push({ scenario: 'dashboard', label: `${s.dashboardClients} clients`, run, expected, stored: counted, lost: Math.max(0, expected - counted) });
    const out: DashboardRun = {
      p50: percentile(latency, 50),
      p99: percentile(latency, 99),
      cpuWith,
      cpuWithout,
      clientsCpu,
      events: m.events as number,
      readingsDelivered: m.readings as number,
      connected: m.connected as number,
      expected,
      counted,
    };
    step(
      `dashboard ${label}: p50 ${num(out.p50)} ms, p99 ${num(out.p99)} ms, CPU ${num(cpuWith)} % with clients / ${num(cpuWithout)} % without, lost ${int(Math.max(0, expected - counted))}`,
    );
    return out;
  } finally {
    pool?.stopEarly();
    await clients.stop();
    await pool?.close();
    probe.close();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runDashboard(ctx: BenchContext): Promise<Section> {
  const s = ctx.sizes;
  const { path } = writeFarm(ctx.workDir, `bench-dashboard`, loadFarm(s.dashboardDevices));
  const runs: DashboardRun[] = [];
  for (let run = 1; run <= ctx.opts.runs; run++) runs.push(await dashboardRun(ctx, run, path));
  const p99 = summarize(runs.map((r) => r.p99));
  const lost = runs.reduce((n, r) => n + Math.max(0, r.expected - r.counted), 0);
  const checks: Check[] = [
    {
      what: `dashboard delivery p99 < 100 ms (${s.dashboardClients} clients, ${int(s.dashboardRate)} readings/s)`,
      ok: p99 ? p99.median < 100 : undefined,
      detail: `${num(p99?.median, 1)} ms`,
    },
  ];
  const body = [
    table(
      [
        'clients on one site',
        'readings/s',
        'delivery p50 (ms)',
        'p99 (ms)',
        'service CPU with clients',
        'without clients',
        'client process CPU',
        'readings delivered to clients/s',
        'lost',
      ],
      [
        [
          `${int(s.dashboardClients)} (connected: ${spread(summarize(runs.map((r) => r.connected)), 0)})`,
          `${int(s.dashboardRate)} from ${s.dashboardDevices} devices`,
          spread(summarize(runs.map((r) => r.p50)), 1),
          spread(p99, 1),
          `${spread(summarize(runs.map((r) => r.cpuWith)), 0)} %`,
          `${spread(summarize(runs.map((r) => r.cpuWithout)), 0)} %`,
          `${spread(summarize(runs.map((r) => r.clientsCpu)), 0)} %`,
          spread(summarize(runs.map((r) => r.readingsDelivered / (s.dashboardMs / 1000)))),
          `${num(lost, 0)} of ${num(
            runs.reduce((n, r) => n + r.expected, 0),
            0,
          )}`,
        ],
      ],
    ),
    '',
    'Each client logs in as the viewer user (its own session), connects over WebSocket with its token and joins the site. ' +
      'Latency: receive time of each reading in a `reading` event minus the reading’s ts (stamped at publish), over every client; the dashboard merges a device’s readings over its coalescing interval (dashboard option coalesceMs), so this is the age of the freshest value a screen shows. ' +
      'CPU: the service process (broker, ingest, store, rules, dashboard), % of one core, from /proc.',
  ].join('\n');
  return { title: 'Dashboard', body, checks, data: runs };
}
