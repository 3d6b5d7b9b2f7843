import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateRegister } from '../../simulators/models/flock.js';
import { createTagLoadRunner, gateReadersOf } from '../../simulators/tag-load.js';
import { BENCH_SECRET, writeFarm } from '../farm.js';
import { int, mb, num, spread, table } from '../format.js';
import { rssBytes } from '../procstat.js';
import { endStatus, status, step } from '../progress.js';
import { summarize } from '../stats.js';
import { startService, type ServiceUnderTest } from '../targets/service.js';
import { profileDir, type BenchContext, type Section } from '../context.js';
import { loadFarmConfig } from '../../core/config/load.js';

/**
 * Ear tags at the park's scale (issue 16): a farm of `tagSheds` sheds holding `tagAnimals` sheep in its register
 * (45,000 in the full run), a gate reader per shed; the simulator's tag load mode (simulators/tag-load.ts)
 * sends every flock out and back in, all gates at once, at `tagRate` reads/s in total (QoS 1). Measured: reads
 * acknowledged and stored per second, the service's RSS with the register loaded and at its peak during the
 * bursts, the head counts after the passes (every sheep back in), and the restart with 45,000 positions to
 * rebuild: time to healthy, head counts again, RSS.
 */
interface TagsRun {
  animals: number;
  readers: number;
  startMs: number;
  restartMs: number;
  rssIdle: number;
  rssPeak: number;
  rssAfterRestart: number;
  ackedReads: number;
  storedReads: number;
  ackedPerSec: number;
  storedPerSec: number;
  passSec: number[];
  headCountOk: boolean;
  headCountAfterRestartOk: boolean;
}

const SITE = 'park';

export function parkFarm(workDir: string, sheds: number, animals: number): { path: string } {
  const perShed = Math.ceil(animals / sheds);
  const zones = Array.from({ length: sheds }, (_, i) => {
    const id = `pen-${String(i + 1).padStart(3, '0')}`;
    const headCount = Math.min(perShed, animals - i * perShed);
    return { id, kind: 'shed', attributes: { headCount }, devices: [{ id: `${id}-gate`, role: 'reader', at: 'gate', secret: BENCH_SECRET }] };
  });
  const register = generateRegister(
    zones.map((z) => ({ zone: z.id, site: SITE, headCount: z.attributes.headCount })),
    7,
  );
  const csv = ['tag,group,born,sex,zone,site', ...register.map((a) => [a.tag, a.group, a.born, a.sex, a.zone, SITE].join(','))].join('\n');
  writeFileSync(join(workDir, 'park-animals.csv'), `${csv}\n`);
  const farm = {
    sites: [{ id: SITE, name: 'Lake-sheep park (bench)', zones }],
    users: [{ name: 'viewer', role: 'viewer', password: 'dev-only-viewer' }],
    animals: { missingAfter: '24h', registerFile: 'park-animals.csv' },
  };
  return writeFarm(workDir, 'bench-park', farm);
}

async function headCounts(service: ServiceUnderTest): Promise<{ in: number; out: number }> {
  const login = await fetch(`${service.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'viewer', password: 'dev-only-viewer' }),
  });
  const { token } = (await login.json()) as { token: string };
  const site = (await (await fetch(`${service.url}/api/sites/${SITE}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
    zones: { headCount?: number; animalsOut?: number }[];
  };
  return site.zones.reduce((t, z) => ({ in: t.in + (z.headCount ?? 0), out: t.out + (z.animalsOut ?? 0) }), { in: 0, out: 0 });
}

function storedReads(dataDir: string): number {
  const db = new Database(join(dataDir, 'farm.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM tag_reads').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function tagsRun(ctx: BenchContext, run: number, farmPath: string): Promise<TagsRun> {
  const s = ctx.sizes;
  const label = `run ${run}/${ctx.opts.runs}`;
  const dataDir = mkdtempSync(join(ctx.workDir, 'data-'));
  const config = loadFarmConfig(farmPath);
  step(`tags ${label}: starting the service with ${int(config.animals.register.length)} animals in its register`);
  let t0 = Date.now();
  let service = await startService({ farmPath, dataDir, profileDir: profileDir(ctx, 'tags', 'tags', run) });
  const startMs = Date.now() - t0;
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const rssIdle = rssBytes(service.pid);
    const readers = gateReadersOf(config, () => BENCH_SECRET);
    let rssPeak = rssIdle;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(service.pid))), 250);
    const firstTs = Date.now() - 2 * 3_600_000; // stamped in the past: the passes may take longer than MAX_FUTURE_SKEW allows ahead
    const runner = createTagLoadRunner({
      brokerUrl: `mqtt://127.0.0.1:${service.mqttPort}`,
      readers,
      ratePerSec: s.tagRate,
      startTs: firstTs,
      onProgress: (st) => status(`${st.connected} gates | reads sent ${int(st.sentReads)}, acknowledged ${int(st.ackedReads)} (${int(st.ratePerSec)}/s)`),
    });
    step(`tags ${label}: ${readers.length} gates send every flock out, then in, at ${int(s.tagRate)} reads/s in total`);
    const began = Date.now();
    await runner.start();
    const st = await runner.done;
    endStatus();
    // Stored: counted in the store itself, until it holds every acknowledged read.
    let stored = 0;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      stored = storedReads(dataDir);
      if (stored >= st.ackedReads) break;
    }
    const storedAt = Date.now();
    clearInterval(sampler);
    const heads = await headCounts(service);
    const animals = config.animals.register.length;
    ctx.counts.push({ scenario: 'tags', label: `${animals} animals`, run, expected: st.ackedReads, stored, lost: Math.max(0, st.ackedReads - stored) });
    step(`tags ${label}: restarting the service (positions of ${int(animals)} animals to rebuild)`);
    await service.stop();
    t0 = Date.now();
    service = await startService({ farmPath, dataDir });
    const restartMs = Date.now() - t0;
    const headsAgain = await headCounts(service);
    await new Promise((r) => setTimeout(r, 3000));
    const rssAfterRestart = rssBytes(service.pid);
    const passMs = st.passMs.reduce((a, b) => a + b, 0);
    const result: TagsRun = {
      animals,
      readers: readers.length,
      startMs,
      restartMs,
      rssIdle,
      rssPeak,
      rssAfterRestart,
      ackedReads: st.ackedReads,
      storedReads: stored,
      ackedPerSec: st.ackedReads / (passMs / 1000),
      storedPerSec: stored / ((storedAt - began) / 1000),
      passSec: st.passMs.map((ms) => ms / 1000),
      headCountOk: heads.in === animals && heads.out === 0,
      headCountAfterRestartOk: headsAgain.in === animals && headsAgain.out === 0,
    };
    step(
      `tags ${label}: ${int(result.ackedPerSec)} reads/s acknowledged, ${int(stored)} of ${int(st.ackedReads)} stored; RSS ${num(mb(rssIdle))} → ${num(mb(rssPeak))} MB; head counts ${result.headCountOk ? 'right' : 'WRONG'}, after restart ${result.headCountAfterRestartOk ? 'right' : 'WRONG'}`,
    );
    return result;
  } finally {
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runTags(ctx: BenchContext): Promise<Section> {
  const s = ctx.sizes;
  const { path } = parkFarm(ctx.workDir, s.tagSheds, s.tagAnimals);
  const runs: TagsRun[] = [];
  for (let run = 1; run <= ctx.opts.runs; run++) runs.push(await tagsRun(ctx, run, path));
  const sum = (f: (r: TagsRun) => number) => summarize(runs.map(f));
  const body = [
    table(
      [
        'animals / gates',
        'reads asked /s',
        'acknowledged reads/s',
        'stored reads/s',
        'out + in passes (s)',
        'RSS with register (MB)',
        'RSS peak in bursts (MB)',
        'start → healthy (s)',
        'restart with positions (s)',
        'RSS after restart (MB)',
        'head counts right (after restart)',
      ],
      [
        [
          `${int(runs[0]?.animals)} / ${int(runs[0]?.readers)}`,
          int(s.tagRate),
          spread(
            sum((r) => r.ackedPerSec),
            0,
          ),
          spread(
            sum((r) => r.storedPerSec),
            0,
          ),
          runs.map((r) => r.passSec.map((x) => num(x, 0)).join(' + ')).join('; '),
          spread(
            sum((r) => mb(r.rssIdle)!),
            0,
          ),
          spread(
            sum((r) => mb(r.rssPeak)!),
            0,
          ),
          spread(
            sum((r) => r.startMs / 1000),
            1,
          ),
          spread(
            sum((r) => r.restartMs / 1000),
            1,
          ),
          spread(
            sum((r) => mb(r.rssAfterRestart)!),
            0,
          ),
          runs.map((r) => `${r.headCountOk ? 'yes' : '**no**'} (${r.headCountAfterRestartOk ? 'yes' : '**no**'})`).join(', '),
        ],
      ],
    ),
    '',
    `The park: ${int(s.tagSheds)} sheds, a gate reader each, ${int(s.tagAnimals)} sheep in the register (a CSV \`registerFile\`), embedded store. ` +
      'Every gate sends its whole flock out, then back in, all gates at once (simulators/tag-load.ts: a message per gate and second, QoS 1, 4 in flight per gate). ' +
      '"Stored" is counted in farm.db\'s tag_reads from outside the service, from the first read until it holds every acknowledged one. ' +
      "Start → healthy includes loading the register; the restart also rebuilds every animal's place from the store.",
  ].join('\n');
  const checks = [
    {
      what: 'tags: head counts right after the bursts and after a restart',
      ok: runs.every((r) => r.headCountOk && r.headCountAfterRestartOk),
      detail: `${runs.filter((r) => r.headCountOk && r.headCountAfterRestartOk).length} of ${runs.length} runs`,
    },
  ];
  return { title: "Ear tags at the park's scale", body, checks, data: runs };
}
