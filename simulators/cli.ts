import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadFarmConfig } from '../core/config/load.js';
import type { FarmConfigT } from '../core/config/schema.js';
import { createLogger } from '../core/logger.js';
import { HELP, UsageError, parseCliArgs, type CliOptions } from './cli-args.js';
import { SCENARIO_NAMES, getScenario } from './scenarios.js';
import { createSimulatorRunner, type RunnerStats } from './runner.js';
import { createLoadRunner, type LoadDevice, type LoadStats } from './load-runner.js';
import { createTagLoadRunner, gateReadersOf } from './tag-load.js';
import { runInProcess } from './in-process.js';
import type { ScenarioReport } from './report.js';

/** `npm run simulate`: plays a scenario (or load mode) against a broker, with progress and a summary. */

function readSecrets(path: string | undefined): Record<string, string> {
  if (!path) return {};
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the secrets file ${path}: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Object.values(data).some((v) => typeof v !== 'string')) {
    throw new UsageError(`${path} must map device ids to secrets, e.g. "shed-1-env: s3cret-value"`);
  }
  return data as Record<string, string>;
}

function secretsFor(farm: FarmConfigT, file: Record<string, string>): (id: string) => string | undefined {
  const plain = new Map(farm.sites.flatMap((s) => s.zones.flatMap((z) => z.devices.map((d) => [d.id, d.secret] as const))));
  return (id) => file[id] ?? plain.get(id);
}

/** Highest resident memory of this process seen at a progress report, for the summary. */
let peakRssBytes = 0;
const sampleRss = () => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss()));
const memoryLine = () => `  memory         peak RSS ${Math.round(sampleRss() / 1048576)} MB`;

const hhmm = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const span = (sec: number) =>
  sec >= 3600
    ? `${Math.floor(sec / 3600)}h${String(Math.floor((sec % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(sec / 60)}m${String(Math.floor(sec % 60)).padStart(2, '0')}s`;

function progressWriter(quiet: boolean): (line: string) => void {
  if (quiet) return () => void sampleRss();
  const tty = process.stderr.isTTY;
  return (line) => {
    sampleRss();
    process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
}

async function runScenario(opts: CliOptions, farm: FarmConfigT, secrets: (id: string) => string | undefined): Promise<number> {
  const scenario = getScenario(opts.scenario);
  const durationSec = opts.durationSec ?? scenario.durationSec;
  const write = progressWriter(opts.quiet);
  const runner = createSimulatorRunner({
    farm,
    brokerUrl: opts.broker,
    secrets,
    scenario,
    seed: opts.seed,
    speed: opts.speed,
    topicRoot: opts.topicRoot,
    durationSec,
    startTs: opts.startTs,
    reportEverySec: opts.reportEverySec,
    faults: opts.faults,
    telemetryQos: opts.qos,
    logger: createLogger(process.env.LOG_LEVEL ?? 'warn', 'simulator'),
    onProgress: (st) =>
      write(
        `[${scenario.name} ×${opts.speed}] sim ${hhmm(st.simTs)} (+${span(st.simElapsedSec)}/${span(durationSec)}) | devices ${st.connected}/${st.devices - st.skipped} connected | sent ${st.sent} (${st.ratePerSec.toFixed(1)}/s) | commands ${st.commands}, acked ${st.acked} | errors ${st.errors}`,
      ),
  });
  const interrupted = onSigint(() => runner.stop());
  process.stderr.write(
    `playing ${scenario.name} for ${span(durationSec)} simulated at ×${opts.speed} (about ${span(durationSec / opts.speed)} real) against ${opts.broker}\n`,
  );
  const startTs = runner.simulation.now();
  if (startTs < Date.now() - 60_000) process.stderr.write(pastStartNote(startTs));
  await runner.start();
  if (runner.stats().connected === 0)
    process.stderr.write(`no device could connect to ${opts.broker} yet: is the broker running, and does it know these devices? (still retrying)\n`);
  const final = await runner.done;
  if (!opts.quiet && process.stderr.isTTY) process.stderr.write('\n');
  printScenarioSummary(scenario.name, final, interrupted() || final.conflict !== undefined);
  if (final.conflict) {
    process.stderr.write(`\nStopped: ${final.conflict}\n`);
    return 1;
  }
  return final.connected === 0 && final.sent === 0 && final.errors > 0 ? 1 : 0;
}

/** --report: the whole service in this process on the simulator's clock; the report to a file, a summary to stdout. */
async function runReport(opts: CliOptions & { report: string }, farm: FarmConfigT): Promise<number> {
  const scenario = getScenario(opts.scenario);
  const unknown = (opts.sites ?? []).filter((s) => !farm.sites.some((x) => x.id === s));
  if (unknown.length > 0) throw new UsageError(`--sites: the farm file has no site ${unknown.join(', ')} (it has ${farm.sites.map((s) => s.id).join(', ')})`);
  const durationSec = opts.durationSec ?? scenario.durationSec;
  const write = progressWriter(opts.quiet);
  process.stderr.write(`playing ${scenario.name} for ${span(durationSec)} simulated against the service in this process (simulated clock)\n`);
  const report = await runInProcess({
    farm,
    scenario: scenario.name,
    seed: opts.seed,
    durationSec,
    startTs: opts.startTs,
    sites: opts.sites,
    reportEverySec: opts.reportEverySec,
    onProgress: (st) =>
      write(
        `[${scenario.name}] sim ${hhmm(st.simTs)} (+${span(st.simElapsedSec)}/${span(durationSec)}) | devices ${st.connected} | sent ${st.sent} (${st.ratePerSec.toFixed(0)}/s) | commands ${st.commands}`,
      ),
  });
  if (!opts.quiet && process.stderr.isTTY) process.stderr.write('\n');
  try {
    writeFileSync(opts.report, JSON.stringify(report, null, 2) + '\n');
  } catch (err) {
    throw new UsageError(`cannot write the report to ${opts.report}: ${(err as Error).message}`);
  }
  printReportSummary(report, opts.report);
  return report.runner.errors > 0 && report.runner.sent === 0 ? 1 : 0;
}

function printReportSummary(r: ScenarioReport, file: string): void {
  const byRule = new Map<string, number>();
  for (const a of r.alerts) byRule.set(a.rule, (byRule.get(a.rule) ?? 0) + 1);
  const lines = [
    `Finished scenario ${r.scenario}: ${r.startLocal} to ${r.endLocal} (${r.timeZone})`,
    `  alerts         ${r.alerts.length}${byRule.size ? ` (${[...byRule].map(([rule, n]) => `${rule} ${n}`).join(', ')})` : ''}`,
    `  most per zone  ${r.budget.maxPerZoneDay} raised in one local day`,
    `  actuations     ${r.actuations.length}`,
    `  readings       ${r.runner.sent} sent, ${r.runner.rejected} rejected, ${r.runner.stalls} stalled steps`,
    `  report         ${file}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/**
 * A sped-up run is placed to end at now (the service refuses stamps ahead of its clock), so it starts in the
 * past: against a service that already has newer readings of these devices its rules would skip all of it.
 * The simulator cannot see the service's readings, so it says so up front; the service logs it when it happens.
 */
function pastStartNote(startTs: number): string {
  return (
    `NOTE: readings are stamped from ${hhmm(startTs)} (simulated) up to now, so that none is ahead of the service's clock.\n` +
    '  A service that already has newer readings of these devices (npm start with its own simulation, or an earlier run)\n' +
    '  stores these but its rules skip them (it logs "readings of <device> are stamped ... before its newest").\n' +
    '  For the rules to react, run against a service started with SIMULATE=false on a fresh DATA_DIR, or at --speed 1.\n'
  );
}

function printScenarioSummary(name: string, st: RunnerStats, interrupted: boolean): void {
  const lines = [
    `${interrupted ? 'Stopped' : 'Finished'} scenario ${name}`,
    `  simulated      ${span(st.simElapsedSec)} in ${(st.wallElapsedMs / 1000).toFixed(1)} s real`,
    `  devices        ${st.devices} (${st.skipped} skipped: no plain secret)`,
    `  messages sent  ${st.sent} (${st.telemetry} telemetry, ${st.states} states, ${st.tagMessages} tag reads), ${(st.sent / Math.max(0.001, st.wallElapsedMs / 1000)).toFixed(1)}/s`,
    `  commands       ${st.commands} received, ${st.acked} acknowledged`,
    `  errors         ${st.errors}${st.lastError ? ` (last: ${st.lastError})` : ''}`,
    memoryLine(),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function loadDevices(opts: CliOptions, farm: FarmConfigT | undefined, secrets: (id: string) => string | undefined): LoadDevice[] {
  const n = opts.load!;
  const fromConfig: LoadDevice[] = [];
  for (const site of farm?.sites ?? [])
    for (const z of site.zones)
      for (const d of z.devices) {
        const password = d.role === 'sensor' ? secrets(d.id) : undefined;
        if (password) fromConfig.push({ device: d.id, site: site.id, zone: z.id, kind: z.kind, password });
      }
  if (fromConfig.length >= n) return fromConfig.slice(0, n);
  if (!opts.loadSecret) {
    throw new UsageError(
      `the farm file has ${fromConfig.length} sensors with known secrets but --load asks for ${n}: give --load-secret (or LOAD_SECRET) for synthetic devices load-00000… that the broker accepts, or use a farm file with more devices`,
    );
  }
  const synthetic = Array.from({ length: n - fromConfig.length }, (_, i) => ({
    device: `load-${String(i).padStart(5, '0')}`,
    site: 'load',
    zone: `load-${String(Math.floor(i / 100)).padStart(3, '0')}`,
    kind: 'shed' as const,
    password: opts.loadSecret!,
  }));
  return [...fromConfig, ...synthetic];
}

async function runLoad(opts: CliOptions, farm: FarmConfigT | undefined, secrets: (id: string) => string | undefined): Promise<number> {
  const devices = loadDevices(opts, farm, secrets);
  const write = progressWriter(opts.quiet);
  const runner = createLoadRunner({
    brokerUrl: opts.broker,
    devices: devices.length,
    ratePerSec: opts.rate,
    credentials: (i) => devices[i],
    qos: opts.qos,
    durationSec: opts.durationSec ?? 60,
    topicRoot: opts.topicRoot,
    seed: opts.seed,
    onProgress: (st) =>
      write(`[load ${st.devices} devices @ ${opts.rate}/s] connected ${st.connected} | sent ${st.sent} (${st.ratePerSec.toFixed(0)}/s) | errors ${st.errors}`),
  });
  const interrupted = onSigint(() => runner.stop());
  await runner.start();
  const st = await runner.done;
  if (!opts.quiet && process.stderr.isTTY) process.stderr.write('\n');
  printLoadSummary(st, interrupted());
  return st.sent === 0 && st.errors > 0 ? 1 : 0;
}

async function runTagLoad(opts: CliOptions, farm: FarmConfigT, secrets: (id: string) => string | undefined): Promise<number> {
  const write = progressWriter(opts.quiet);
  const runner = createTagLoadRunner({
    brokerUrl: opts.broker,
    readers: gateReadersOf(farm, secrets),
    ratePerSec: opts.rate,
    qos: opts.qos,
    topicRoot: opts.topicRoot,
    onProgress: (st) =>
      write(
        `[tag load ${st.readers} gates, ${st.animals} animals @ ${opts.rate}/s] connected ${st.connected} | reads sent ${st.sentReads}, acknowledged ${st.ackedReads} (${st.ratePerSec.toFixed(0)}/s) | errors ${st.errors}`,
      ),
  });
  const interrupted = onSigint(() => runner.stop());
  await runner.start();
  const st = await runner.done;
  if (!opts.quiet && process.stderr.isTTY) process.stderr.write('\n');
  const lines = [
    `${interrupted() ? 'Stopped' : 'Finished'} tag load run`,
    `  gate readers   ${st.readers}, ${st.animals} animals`,
    `  reads          ${st.ackedReads} acknowledged of ${st.sentReads} sent in ${st.messages} messages; passes took ${st.passMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')} = ${st.ratePerSec.toFixed(0)} reads/s`,
    `  errors         ${st.errors}${st.lastError ? ` (last: ${st.lastError})` : ''}`,
    memoryLine(),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return st.ackedReads === 0 ? 1 : 0;
}

function printLoadSummary(st: LoadStats, interrupted: boolean): void {
  const lines = [
    `${interrupted ? 'Stopped' : 'Finished'} load run`,
    `  devices        ${st.devices}, ${st.devices - st.connectFailures} connected in ${(st.connectMs / 1000).toFixed(1)} s (${st.connectFailures} failures)`,
    `  messages sent  ${st.sent} in ${(st.publishMs / 1000).toFixed(1)} s = ${st.ratePerSec.toFixed(0)}/s`,
    `  errors         ${st.errors}${st.lastError ? ` (last: ${st.lastError})` : ''}`,
    memoryLine(),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/**
 * First Ctrl-C stops cleanly (the summary still prints); another one a moment later exits at once.
 * (tsx relays the terminal's SIGINT to this process as well, so one keypress can arrive twice.)
 */
function onSigint(stop: () => Promise<unknown>): () => boolean {
  let interruptedAt = 0;
  const handler = () => {
    if (interruptedAt) {
      if (Date.now() - interruptedAt > 1500) process.exit(130);
      return;
    }
    interruptedAt = Date.now();
    process.stderr.write('\nstopping…\n');
    void stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => interruptedAt > 0;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  try {
    const opts = parseCliArgs(argv);
    if (opts.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (opts.list) {
      for (const name of SCENARIO_NAMES) process.stdout.write(`${name.padEnd(16)} ${getScenario(name).description}\n`);
      return 0;
    }
    const fileSecrets = readSecrets(opts.secretsFile);
    const needsFarm = opts.load === undefined || !opts.loadSecret;
    const farm = needsFarm || opts.config ? loadFarmConfigSafe(opts.config, needsFarm) : undefined;
    const secrets = farm ? secretsFor(farm, fileSecrets) : (id: string) => fileSecrets[id];
    if (opts.tagLoad) return await runTagLoad(opts, farm!, secrets);
    if (opts.report !== undefined) return await runReport({ ...opts, report: opts.report }, farm!);
    return opts.load !== undefined ? await runLoad(opts, farm, secrets) : await runScenario(opts, farm!, secrets);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof RangeError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function loadFarmConfigSafe(path: string, required: boolean): FarmConfigT | undefined {
  try {
    return loadFarmConfig(path);
  } catch (err) {
    if (required) throw err;
    return undefined;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`simulator failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
