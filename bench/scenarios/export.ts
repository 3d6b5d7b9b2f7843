import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { profileDir, type BenchContext, type Section } from '../context.js';
import { int, mb, num, spread, table } from '../format.js';
import { peakRssBytes, rssBytes } from '../procstat.js';
import { endStatus, status, step } from '../progress.js';
import { summarize } from '../stats.js';
import { counterTotal, startService } from '../targets/service.js';

/**
 * CSV export (issue 15): a year of one device, 1,000,000 stored readings, downloaded as CSV over
 * GET /api/readings?format=csv from the service as `npm start` runs it (embedded store). The export is streamed
 * a store page (10,000 rows) at a time, so the service's memory should stay near where it was, whatever the
 * size of the file. Measured: RSS before, the highest RSS sampled every 50 ms during the download, the
 * process's own peak (VmHWM, which also covers start-up), the file size and the time.
 */
interface ExportRun {
  /** Rows asked for: the whole year, or its first tenth (the comparison row). */
  asked: number;
  rows: number;
  heapPeak?: number;
  bytes: number;
  ms: number;
  rssBefore: number;
  rssPeakDuring: number;
  hwmAfter: number;
}

const DEVICE = { site: 'huyang', zone: 'shed-1', kind: 'shed' as const, device: 'shed-1-env' };
const YEAR_MS = 365 * 86_400_000;

/** Writes `rows` nh3 readings of one device spread over a year, straight into farm.db (as ingest would). */
async function seed(dataDir: string, rows: number, end: number): Promise<{ from: number; to: number }> {
  const store = createSqliteStore({ dataDir, logger: silentLogger() });
  await store.init();
  const stepMs = Math.floor(YEAR_MS / rows);
  const from = end - rows * stepMs;
  try {
    for (let i = 0; i < rows; i += 20_000) {
      const n = Math.min(20_000, rows - i);
      await store.writeReadings(Array.from({ length: n }, (_, k) => ({ ...DEVICE, ts: from + (i + k) * stepMs, metrics: { nh3: 8 + ((i + k) % 170) / 10 } })));
      status(`writing readings into the store: ${int(i + n)}/${int(rows)}`);
    }
  } finally {
    endStatus();
    await store.close();
  }
  return { from, to: end };
}

async function exportRun(ctx: BenchContext, run: number, dataDir: string, range: { from: number; to: number }, asked: number): Promise<ExportRun> {
  const label = `${int(asked)} rows, run ${run}/${ctx.opts.runs}`;
  const service = await startService({ farmPath: 'config/demo-farm.yaml', dataDir, profileDir: profileDir(ctx, 'export', 'export', run) });
  try {
    const login = await fetch(`${service.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'dev-only-admin' }),
    });
    if (!login.ok) throw new Error(`login as admin failed: ${login.status} ${await login.text()}`);
    const { token } = (await login.json()) as { token: string };
    // Let start-up garbage settle so "before" is the service at rest.
    await new Promise((r) => setTimeout(r, 2000));
    const rssBefore = rssBytes(service.pid);
    let rssPeakDuring = rssBefore;
    let heapPeak: number | undefined;
    const sampler = setInterval(() => (rssPeakDuring = Math.max(rssPeakDuring, rssBytes(service.pid))), 50);
    // The V8 heap in use, from the service's own /metrics (RSS also counts freed pages the allocator keeps).
    const heapNow = async () => {
      const used = await service.metricsText().then(
        (text) => counterTotal(text, 'farm_process_nodejs_heap_size_used_bytes'),
        () => 0,
      );
      if (used > 0) heapPeak = Math.max(heapPeak ?? 0, used);
    };
    let sampling = true;
    const heapLoop = (async () => {
      while (sampling) {
        await heapNow();
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const started = Date.now();
    let bytes = 0;
    let lines = 0;
    try {
      const res = await fetch(`${service.url}/api/readings?device=${DEVICE.device}&metric=nh3&from=${range.from}&to=${range.to + 1}&format=csv`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!res.ok || !res.body) throw new Error(`export answered ${res.status}: ${await res.text()}`);
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        for (const byte of chunk) if (byte === 10) lines++;
        if (lines % 50_000 < 200) status(`export ${label}: ${int(lines - 1)} rows, ${num(mb(bytes))} MB, RSS ${num(mb(rssPeakDuring))} MB`);
      }
    } finally {
      clearInterval(sampler);
      sampling = false;
      await heapLoop;
      endStatus();
    }
    await heapNow();
    const ms = Date.now() - started;
    rssPeakDuring = Math.max(rssPeakDuring, rssBytes(service.pid));
    const rows = lines - 1;
    step(
      `export ${label}: ${int(rows)} rows, ${num(mb(bytes))} MB in ${num(ms / 1000, 1)} s; RSS ${num(mb(rssBefore))} MB before, ${num(mb(rssPeakDuring))} MB at most during`,
    );
    return { asked, rows, bytes, ms, rssBefore, rssPeakDuring, heapPeak, hwmAfter: peakRssBytes(service.pid) };
  } finally {
    await service.stop();
  }
}

export async function runExport(ctx: BenchContext): Promise<Section> {
  const rows = ctx.sizes.exportRows;
  const dataDir = mkdtempSync(join(ctx.workDir, 'export-'));
  try {
    step(`export: writing ${int(rows)} readings of ${DEVICE.device} (one metric, a year) into a fresh embedded store`);
    const range = await seed(dataDir, rows, Date.now() - 60_000);
    // The first tenth of the year too: had the export held the file, memory would grow ten times as much for the year.
    const tenth = Math.floor(rows / 10);
    const sizes = [
      { asked: tenth, range: { from: range.from, to: range.from + Math.floor((range.to - range.from) / 10) - 1 } },
      { asked: rows, range },
    ];
    const runs: ExportRun[] = [];
    for (const size of sizes) for (let run = 1; run <= ctx.opts.runs; run++) runs.push(await exportRun(ctx, run, dataDir, size.range, size.asked));
    const complete = runs.every((r) => Math.abs(r.rows - r.asked) <= 1);
    const row = (list: ExportRun[]) => [
      int(list[0].asked),
      spread(summarize(list.map((r) => mb(r.bytes))), 1),
      spread(summarize(list.map((r) => r.ms / 1000)), 1),
      spread(summarize(list.map((r) => (r.rows / r.ms) * 1000)), 0),
      spread(summarize(list.map((r) => mb(r.rssBefore))), 0),
      spread(summarize(list.map((r) => mb(r.rssPeakDuring))), 0),
      spread(summarize(list.map((r) => mb(r.rssPeakDuring - r.rssBefore))), 0),
      spread(summarize(list.map((r) => mb(r.heapPeak))), 0),
      spread(summarize(list.map((r) => mb(r.hwmAfter))), 0),
    ];
    const body = [
      table(
        [
          'rows',
          'CSV size (MB)',
          'time (s)',
          'rows/s',
          'RSS before (MB)',
          'RSS peak during the export (MB)',
          'RSS growth (MB)',
          'V8 heap in use, max (MB)',
          'process peak, VmHWM (MB)',
        ],
        sizes.map((size) => row(runs.filter((r) => r.asked === size.asked))),
      ),
      '',
      `One device's nh3 over a year (a reading every ${num(YEAR_MS / rows / 1000, 1)} s), exported by an admin with \`GET /api/readings?device=…&metric=nh3&from=…&to=…&format=csv\` from the service (\`app/main.ts\`, embedded store, demo farm). ` +
        'RSS of the service process sampled every 50 ms from /proc; VmHWM is its peak since start (start-up included). The store is read 10,000 rows at a time and the response waits for the client (backpressure).',
    ].join('\n');
    return {
      title: 'CSV export',
      body,
      checks: [{ what: `export of ${int(rows)} rows complete`, ok: complete, detail: runs.map((r) => int(r.rows)).join(', ') }],
      data: runs,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
