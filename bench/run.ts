import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { HELP, parseBenchArgs, UsageError, type BenchOptions } from './cli.js';
import type { BenchContext, Section } from './context.js';
import { num, table, verdict } from './format.js';
import { machineLoad } from './procstat.js';
import { findProfiles, profileMarkdown, summarizeProfiles } from './profile.js';
import { step } from './progress.js';
import { runBroker } from './scenarios/broker.js';
import { runDashboard } from './scenarios/dashboard.js';
import { runExport } from './scenarios/export.js';
import { runMemory } from './scenarios/memory.js';
import { runPipeline } from './scenarios/pipeline.js';
import { runRules } from './scenarios/rules.js';
import { runSoak } from './scenarios/soak.js';
import { runTags } from './scenarios/tags.js';
import { sizesFor } from './sizes.js';
import { mosquittoMissing } from './targets/brokers.js';
import { influxdMissing, startBenchInfluxd, type Influxd } from './targets/influx.js';

/**
 * `npm run bench`: a script, not a test. Runs the chosen scenarios, shows progress on stderr, and writes one
 * markdown report (stdout and <out>/bench-<time>.md) plus the raw per-run values (.json).
 */
function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model ?? 'unknown CPU'}, ${num(totalmem() / 2 ** 30, 0)} GB RAM, Linux ${release()}, Node ${process.version}; one machine shared by the load generator, the broker or service and influxd`;
}

function preflight(o: BenchOptions): void {
  const needsInflux = o.stores.includes('influx') && ['broker', 'pipeline', 'all', 'soak'].includes(o.scenario);
  const problems = [needsInflux ? influxdMissing() : undefined, ['broker', 'all'].includes(o.scenario) ? mosquittoMissing() : undefined].filter(Boolean);
  if (problems.length) throw new UsageError(problems.join('\n'));
}

async function scenarios(ctx: BenchContext, profiled: (name: string) => void): Promise<Section[]> {
  const o = ctx.opts;
  const withInflux = o.stores.includes('influx');
  const out: Section[] = [];
  const add = async (name: string, run: () => Promise<Section>) => {
    out.push(await run());
    profiled(name);
  };
  switch (o.scenario) {
    case 'broker':
      await add('broker', () => runBroker(ctx, { mosquitto: true, influx: withInflux }));
      break;
    case 'pipeline':
      if (o.refs) await add('broker', () => runBroker(ctx, { mosquitto: false, influx: withInflux }));
      await add('pipeline', () => runPipeline(ctx));
      break;
    case 'rules':
      await add('rules', () => runRules(ctx));
      break;
    case 'dashboard':
      await add('dashboard', () => runDashboard(ctx));
      break;
    case 'memory':
      await add('memory', () => runMemory(ctx));
      break;
    case 'soak':
      await add('soak', () => runSoak(ctx));
      break;
    case 'tags':
      await add('tags', () => runTags(ctx));
      break;
    case 'export':
      await add('export', () => runExport(ctx));
      break;
    case 'all':
      await add('broker', () => runBroker(ctx, { mosquitto: true, influx: withInflux }));
      await add('pipeline', () => runPipeline(ctx));
      await add('rules', () => runRules(ctx));
      await add('dashboard', () => runDashboard(ctx));
      await add('memory', () => runMemory(ctx));
      await add('tags', () => runTags(ctx));
      break;
  }
  return out;
}

function report(
  ctx: BenchContext,
  sections: Section[],
  meta: { command: string; startedAt: Date; minutes: number; loadBefore: string; loadAfter: string },
): string {
  const checks = sections.flatMap((s) => s.checks);
  const lost = ctx.counts.reduce((n, c) => n + c.lost, 0);
  const expected = ctx.counts.reduce((n, c) => n + c.expected, 0);
  const lines = [
    `### Benchmark ${ctx.opts.quick ? '(QUICK RUN: tiny sizes, not results) ' : ''}— ${meta.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- Machine: ${machine()}`,
    `- Command: \`${meta.command}\` (${ctx.opts.runs} run(s) per figure; median, with min–max in brackets; took ${num(meta.minutes, 1)} min)`,
    `- Load average before / after: ${meta.loadBefore} / ${meta.loadAfter}`,
    '',
  ];
  // Before only: during the run the benchmark's own processes add to the load average.
  const busy = Number(meta.loadBefore.split(' ')[0]);
  if (busy > cpus().length)
    lines.push(
      `> **The machine was busy** (load average ${num(busy, 1)} on ${cpus().length} cores, from processes outside this benchmark): these figures are not reliable. Run again on an otherwise idle machine.`,
      '',
    );
  for (const s of sections) lines.push(`#### ${s.title}`, '', s.body, '');
  lines.push('#### Targets', '');
  lines.push(
    table(
      ['target', 'result', 'measured'],
      [
        ...checks.map((c) => [c.what, verdict(c.ok, { quick: ctx.opts.quick }), c.detail]),
        [
          'no reading lost in any run (every reading counted)',
          verdict(lost === 0, { quick: ctx.opts.quick, always: true }),
          `lost ${num(lost, 0)} of ${num(expected, 0)} over ${ctx.counts.length} runs`,
        ],
      ],
    ),
    '',
  );
  const lossy = ctx.counts.filter((c) => c.lost > 0);
  if (lossy.length)
    lines.push(
      table(
        ['scenario', 'figure', 'run', 'expected', 'counted', 'lost'],
        lossy.map((c) => [c.scenario, c.label, String(c.run), num(c.expected, 0), num(c.stored, 0), num(c.lost, 0)]),
      ),
      '',
    );
  return lines.join('\n');
}

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  preflight(opts);
  const sizes = sizesFor(opts);
  const outDir = resolve(opts.out);
  mkdirSync(outDir, { recursive: true });
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const workDir = mkdtempSync(join(tmpdir(), 'farm-bench-'));
  // Also on Ctrl-C (process.exit skips the finally below).
  process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));
  let influxd: Promise<Influxd> | undefined;
  const ctx: BenchContext = {
    opts,
    sizes,
    workDir,
    profileRoot: opts.profile ? join(outDir, `profiles-${stamp}`) : undefined,
    refs: { capacity: {}, fanIn: {}, fanInLatency: {} },
    counts: [],
    influxd: () => {
      influxd ??= (step('starting influxd (a real InfluxDB 1.x, temp dir, free port)'), startBenchInfluxd());
      return influxd;
    },
  };
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
  const loadBefore = machineLoad();
  step(`${command}: ${opts.scenario}${opts.quick ? ' (quick)' : ''}, ${opts.runs} run(s) per figure; results go to ${outDir}`);
  const profileSections: Section[] = [];
  const profiled = (name: string) => {
    if (!ctx.profileRoot) return;
    const files = findProfiles(join(ctx.profileRoot, name));
    if (files.length === 0) return;
    const summary = summarizeProfiles(files);
    const what = name === 'broker' ? 'the embedded broker alone (fan-in reference)' : `the service (${name})`;
    profileSections.push({
      title: `CPU profile of ${what}`,
      body: profileMarkdown(name, summary),
      checks: [],
      data: { files, top: summary.functions.slice(0, 50), areas: summary.areas },
    });
    step(
      `profile ${name}: top self time: ${summary.functions
        .slice(0, 5)
        .map((f) => `${f.name} ${num(f.selfMs, 0)} ms`)
        .join(', ')}`,
    );
  };
  try {
    const sections = await scenarios(ctx, profiled);
    const all = [...sections, ...profileSections];
    const md = report(ctx, all, { command, startedAt, minutes: (Date.now() - startedAt.getTime()) / 60_000, loadBefore, loadAfter: machineLoad() });
    const file = join(outDir, `bench-${stamp}.md`);
    writeFileSync(file, `${md}\n`);
    writeFileSync(
      join(outDir, `bench-${stamp}.json`),
      JSON.stringify({ command, startedAt, sizes, refs: ctx.refs, counts: ctx.counts, sections: all.map((s) => ({ title: s.title, data: s.data })) }, null, 2),
    );
    process.stdout.write(`\n${md}\n`);
    step(`report written to ${file}${ctx.profileRoot ? `; CPU profiles in ${ctx.profileRoot}` : ''}`);
    return ctx.counts.some((c) => c.lost > 0) ? 3 : 0;
  } finally {
    if (influxd) await (await influxd.catch(() => undefined))?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

// Ctrl-C: exit through process.exit so the 'exit' hooks kill every process this run started.
process.once('SIGINT', () => {
  process.stderr.write('\ninterrupted: stopping the processes this benchmark started\n');
  process.exit(130);
});

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) process.stderr.write(`\n${err.message}\n`);
    else
      process.stderr.write(
        `\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\nNothing was written for the unfinished scenario; fix the cause above and run again (add --quick to check quickly).\n`,
      );
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
