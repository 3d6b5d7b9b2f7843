import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadDeviceSpecs, loadFarm, ruleInstanceCount, writeFarm } from '../farm.js';
import { int, mb, num, spread, table } from '../format.js';
import { createLoadPool } from '../load/pool.js';
import { sqliteProbe, waitForCount } from '../probes/store.js';
import { rssBytes } from '../procstat.js';
import { endStatus, status, step } from '../progress.js';
import { summarize } from '../stats.js';
import { counterTotal, startService } from '../targets/service.js';
import { waitUntil } from '../targets/process.js';
import { profileDir, type BenchContext, type Section } from '../context.js';

/**
 * Memory (issue 4): resident set size of the service process (VmRSS) started with a farm of N devices,
 * before any connects, with all N connected and idle, and while they publish at a modest rate.
 */
interface MemoryRun {
  idle: number;
  connected: number;
  /** V8 heap in use (from /metrics) at the same two moments. */
  idleHeap?: number;
  connectedHeap?: number;
  /** RSS and V8 heap in use right after a full garbage collection, none connected and all connected. */
  idleAfterGc: AfterGc;
  connectedAfterGc: AfterGc;
  publishing: number;
  devices: number;
  connectMs: number;
  retries: number;
  expected: number;
  counted: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface AfterGc {
  rss: number;
  /** V8 heap: objects alive, and the space reserved for it (young generation included). */
  heapUsed: number;
  heapTotal: number;
  /** The young generation's reserved size. */
  newSpace: number;
}

/** Node flags that load the forced-collection probe into the service (bench/probes/heap-after-gc.mjs). */
export const AFTER_GC_FLAGS = ['--expose-gc', '--import', './bench/probes/heap-after-gc.mjs'];

/**
 * Asks the service (started with AFTER_GC_FLAGS and BENCH_HEAP_FILE=file) to collect all its garbage, and reads what
 * is left: what the devices really keep, whatever the collector's timing (the live figures include young garbage).
 */
async function afterGc(pid: number, file: string): Promise<AfterGc> {
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const line = await waitUntil(
    () => (existsSync(file) ? readFileSync(file, 'utf8') : undefined),
    'the service to report its memory after a full collection',
    60_000,
    100,
  );
  const m = JSON.parse(line) as AfterGc;
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, newSpace: m.newSpace };
}

const heapInUse = (service: { metricsText(): Promise<string> }) =>
  service.metricsText().then(
    (text) => counterTotal(text, 'farm_process_nodejs_heap_size_used_bytes') || undefined,
    () => undefined,
  );

/**
 * KB per connected device from the growth between two readings; undefined when it did not grow: at small sizes the
 * garbage collector's timing moves memory more than the devices do (a --quick run printed a negative figure).
 */
export function perDeviceKb(before: number | undefined, after: number | undefined, devices: number): number | undefined {
  if (before === undefined || after === undefined || devices <= 0 || after <= before) return undefined;
  return (after - before) / 1024 / devices;
}

/**
 * Each device is a connection, a file descriptor of the service: more devices than its limit allows cannot connect.
 * Says so before starting, with the limit and how to raise it.
 */
export function fdLimitProblem(devices: number, limits = readFileSync('/proc/self/limits', 'utf8')): string | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (!m || m[1] === 'unlimited') return undefined;
  const soft = Number(m[1]);
  // The service's own files (SQLite, HTTP, its modules) need some too.
  if (devices + 500 <= soft) return undefined;
  return `${devices.toLocaleString('en-US')} devices need as many open files in the service, more than its limit of ${soft.toLocaleString('en-US')} (ulimit -n; hard limit ${m[2]}): raise it with \`ulimit -n <n>\` before npm run bench (up to the hard limit; above it needs root or CAP_SYS_RESOURCE), or use --devices ${Math.max(1000, soft - 1000)}`;
}

async function memoryRun(ctx: BenchContext, run: number, farmPath: string): Promise<MemoryRun> {
  const s = ctx.sizes;
  const label = `run ${run}/${ctx.opts.runs}`;
  const dataDir = mkdtempSync(join(ctx.workDir, 'data-'));
  step(`memory ${label}: starting the service with ${int(s.memoryDevices)} devices in its farm`);
  const heapFile = join(ctx.workDir, `heap-after-gc-${run}.json`);
  const service = await startService({
    farmPath,
    dataDir,
    profileDir: profileDir(ctx, 'memory', 'memory', run),
    extraNodeFlags: AFTER_GC_FLAGS,
    env: { BENCH_HEAP_FILE: heapFile },
  });
  const probe = sqliteProbe(dataDir, ['temperature']);
  let pool: Awaited<ReturnType<typeof createLoadPool>> | undefined;
  try {
    await sleep(3000);
    const idle = rssBytes(service.pid);
    const idleHeap = await heapInUse(service);
    const idleAfterGc = await afterGc(service.pid, heapFile);
    // One generator process per 5,000 connections keeps each well under its file-descriptor limit.
    pool = await createLoadPool(loadDeviceSpecs(s.memoryDevices), Math.max(ctx.opts.workers, Math.ceil(s.memoryDevices / 5000)));
    const c = await pool.connect({
      host: '127.0.0.1',
      port: service.mqttPort,
      concurrency: 200,
      onProgress: (n) => status(`connecting devices: ${int(n)}/${int(s.memoryDevices)}`),
    });
    endStatus();
    if (c.connected < s.memoryDevices) throw new Error(`only ${c.connected} of ${s.memoryDevices} devices connected (${c.lastError ?? 'no error given'})`);
    await waitUntil(
      async () => {
        const h = await service.health();
        return Number(h.checks.mqttClients) >= s.memoryDevices ? true : undefined;
      },
      `the service to count ${s.memoryDevices} MQTT clients`,
      120_000,
      500,
    );
    step(`memory ${label}: ${int(c.connected)} devices connected in ${num(c.ms / 1000, 1)} s (${int(c.retries)} CONNECTs retried); settling 5 s`);
    await sleep(5000);
    const connected = rssBytes(service.pid);
    const connectedHeap = await heapInUse(service);
    const connectedAfterGc = await afterGc(service.pid, heapFile);
    step(`memory ${label}: all devices publish ${int(s.memoryRate)} readings/s in total for ${s.memoryMs / 1000} s`);
    let publishing = 0;
    const sampler = setInterval(() => (publishing = Math.max(publishing, rssBytes(service.pid))), 500);
    const l = await pool.run({ qos: 1, mode: 'rate', ratePerSec: s.memoryRate, durationMs: s.memoryMs, window: s.window }, (p) =>
      status(`sent ${int(p.sent)} | acked ${int(p.acked)}`),
    );
    clearInterval(sampler);
    endStatus();
    const counted = await waitForCount(probe, l.acked, { quietMs: 15_000, maxMs: 120_000 });
    ctx.counts.push({ scenario: 'memory', label: `${s.memoryDevices} devices`, run, expected: l.acked, stored: counted, lost: Math.max(0, l.acked - counted) });
    step(
      `memory ${label}: RSS ${num(mb(idle))} MB idle, ${num(mb(connected))} MB with ${int(c.connected)} devices, ${num(mb(publishing))} MB publishing; ` +
        `after a full collection: V8 heap in use ${num(mb(idleAfterGc.heapUsed))} → ${num(mb(connectedAfterGc.heapUsed))} MB, ` +
        `V8 heap size ${num(mb(idleAfterGc.heapTotal))} → ${num(mb(connectedAfterGc.heapTotal))} MB, ` +
        `young generation reserved ${num(mb(idleAfterGc.newSpace))} → ${num(mb(connectedAfterGc.newSpace))} MB; lost ${int(Math.max(0, l.acked - counted))}`,
    );
    return {
      idle,
      connected,
      idleHeap,
      connectedHeap,
      idleAfterGc,
      connectedAfterGc,
      publishing,
      devices: c.connected,
      connectMs: c.ms,
      retries: c.retries,
      expected: l.acked,
      counted,
    };
  } finally {
    await pool?.close();
    probe.close();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runMemory(ctx: BenchContext): Promise<Section> {
  const s = ctx.sizes;
  const fdProblem = fdLimitProblem(s.memoryDevices);
  if (fdProblem) throw new Error(fdProblem);
  const { path, config } = writeFarm(ctx.workDir, `bench-memory`, loadFarm(s.memoryDevices));
  const instances = ruleInstanceCount(config);
  const runs: MemoryRun[] = [];
  for (let run = 1; run <= ctx.opts.runs; run++) runs.push(await memoryRun(ctx, run, path));
  const lost = runs.reduce((n, r) => n + Math.max(0, r.expected - r.counted), 0);
  const body = [
    table(
      [
        'devices',
        'RSS, none connected (MB)',
        `RSS, ${int(s.memoryDevices)} connected and idle (MB)`,
        'per connected device: RSS / V8 heap in use (KB)',
        'per connected device after a full collection: V8 heap in use (KB)',
        `RSS while publishing ${int(s.memoryRate)}/s (MB, max)`,
        'time to connect all (s)',
        'CONNECTs retried',
        'lost',
      ],
      [
        [
          int(s.memoryDevices),
          spread(summarize(runs.map((r) => mb(r.idle))), 0),
          spread(summarize(runs.map((r) => mb(r.connected))), 0),
          `${spread(summarize(runs.map((r) => perDeviceKb(r.idle, r.connected, r.devices))), 1)} / ${spread(summarize(runs.map((r) => perDeviceKb(r.idleHeap, r.connectedHeap, r.devices))), 1)}`,
          `**${spread(summarize(runs.map((r) => perDeviceKb(r.idleAfterGc.heapUsed, r.connectedAfterGc.heapUsed, r.devices))), 1)}**`,
          spread(summarize(runs.map((r) => mb(r.publishing))), 0),
          spread(summarize(runs.map((r) => r.connectMs / 1000)), 1),
          spread(summarize(runs.map((r) => r.retries)), 0),
          `${num(lost, 0)} of ${num(
            runs.reduce((n, r) => n + r.expected, 0),
            0,
          )}`,
        ],
      ],
    ),
    '',
    `The farm: the demo farm plus ${int(s.memoryDevices)} shed sensors (${int(instances)} rule instances with the demo rules). Each device is its own MQTT connection with a Last Will and a retained \`online\` status. ` +
      'RSS is VmRSS of the service process from /proc, read 3 s after start (none connected) and 5 s after the last device connected; the V8 heap in use is read from /metrics at the same moments. ' +
      'Per device: the growth divided by the devices; n/a when memory did not grow (at small sizes the garbage collector moves it more than the devices do). ' +
      'Both include garbage not yet collected (up to the young generation, 64 MB semi-spaces). ' +
      'After a full collection, right after each of those: the service (run with --expose-gc and bench/probes/heap-after-gc.mjs, for the benchmark only) collects all its garbage on SIGUSR2 and reports the V8 heap in use: ' +
      "its growth per device is what the devices keep in JavaScript objects, whatever the collector's timing. RSS grows more: it also holds the pages the heap keeps in reserve and native socket state.",
  ].join('\n');
  return { title: 'Memory', body, checks: [], data: runs };
}
