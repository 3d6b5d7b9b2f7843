import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseCliArgs } from '../../simulators/cli-args.js';
import { farm, gaugeZone, SECRET, shedZone } from './fixtures.js';
import { startTestBroker, type TestBroker } from './test-broker.js';

/** Runs `simulators/cli.ts` as a user would (through tsx) and returns its exit code and output. */
function cli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
  script = 'simulators/cli.ts',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let broker: TestBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

describe('simulate command line', () => {
  it('reads its options, with defaults from the environment', () => {
    const o = parseCliArgs(['--scenario', 'typhoon', '--speed', '60', '--seed', '7', '--fault', 'stuck:shed-1-env@60', '--duration', '2h'], {
      MQTT_URL: 'mqtt://broker:1883',
      FARM_CONFIG: 'farm.yaml',
    });
    expect(o).toMatchObject({
      scenario: 'typhoon',
      speed: 60,
      seed: 7,
      durationSec: 7200,
      broker: 'mqtt://broker:1883',
      config: 'farm.yaml',
      qos: 1,
      faults: [{ kind: 'stuck', device: 'shed-1-env', fromSec: 60 }],
    });
    expect(parseCliArgs([], {})).toMatchObject({ scenario: 'normal-day', speed: 1, seed: 1, broker: 'mqtt://127.0.0.1:1883', config: 'config/demo-farm.yaml' });
    expect(parseCliArgs(['--load', '100', '--rate', '50'], {})).toMatchObject({ load: 100, rate: 50, qos: 0 });
    expect(() => parseCliArgs(['--speed', 'fast'], {})).toThrow(/--speed must be a positive number/);
    expect(() => parseCliArgs(['--load', '20000'], {})).toThrow(/1 to 10000/);
    expect(() => parseCliArgs(['--bogus'], {})).toThrow(/--help/);
  });

  it('--report runs the service in this process on the simulated clock and writes what it did; report-table makes the README row', async () => {
    expect(() => parseCliArgs(['--days', '2', '--duration', '3h'], {})).toThrow(/either --days or --duration/);
    expect(() => parseCliArgs(['--sites', 'xihu-drain'], {})).toThrow(/--sites goes with --report/);
    expect(parseCliArgs(['--days', '2', '--report', 'r.json', '--sites', 'a, b'], {})).toMatchObject({
      durationSec: 172_800,
      report: 'r.json',
      sites: ['a', 'b'],
    });
    const file = join(mkdtempSync(join(tmpdir(), 'sim-report-')), 'cloudburst.json');
    const run = await cli(['--scenario', 'cloudburst', '--days', '1', '--sites', 'xihu-drain', '--report', file, '--quiet'], {}, 120_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Finished scenario cloudburst: 2021-07-30T00:00:00\+08:00 to 2021-07-31T00:00:00\+08:00 \(Asia\/Shanghai\)/);
    expect(run.stdout).toMatch(/report +.*cloudburst\.json/);
    const report = JSON.parse(readFileSync(file, 'utf8'));
    expect(report).toMatchObject({ scenario: 'cloudburst', sites: ['xihu-drain'], runner: { stalls: 0, rejected: 0 } });
    const first = report.alerts[0];
    expect(Object.keys(first)).toEqual(expect.arrayContaining(['rule', 'zone', 'level', 'raised', 'raisedLocal', 'cleared']));
    expect(first.raisedLocal).toMatch(/^2021-07-30T1\d:\d\d:\d\d\+08:00$/);
    expect(report.actuations[0]).toMatchObject({ device: 'sump-1-pump', type: 'pump', action: 'on', reason: 'rule:sump-pump', acked: expect.any(Number) });
    const table = await cli([file], {}, 30_000, 'simulators/report-table.ts');
    expect(table.stdout.split('\n')[2]).toMatch(/^\| `cloudburst` \| 2021-07-30, 1 d, xihu-drain \| \d+: .*rainstorm-1h 3.* \| \d \| 2: pump 2 \|$/);
    const unknown = await cli(['--scenario', 'cloudburst', '--sites', 'nowhere', '--report', file]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--sites: the farm file has no site nowhere \(it has huyang, tianmu, xihu-drain\)/);
  });

  it('--help explains the options and exits 0; a bad scenario exits 2 naming the choices', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--scenario <name>.*typhoon/);
    expect(help.stdout).toMatch(/--load <n>/);
    // Against plain `npm start` (which simulates the demo farm itself) the two would fight for the device ids.
    expect(help.stdout).toMatch(/SIMULATE=false npm start/);
    const bad = await cli(['--scenario', 'earthquake']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/choose one of normal-day, summer-week, heat-wave/);
  });

  it('plays a scenario against a broker, shows progress and prints a summary', async () => {
    const f = farm({ huyang: [shedZone(1)], drain: [gaugeZone('gauge-1')] });
    broker = await startTestBroker(new Map(f.sites.flatMap((s) => s.zones.flatMap((z) => z.devices.map((d) => [d.id, SECRET] as const)))));
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    writeFileSync(join(dir, 'farm.yaml'), stringify(f));
    const run = await cli([
      '--scenario',
      'typhoon',
      '--speed',
      '1800',
      '--duration',
      '1h',
      '--report-every',
      '1m',
      '--seed',
      '7',
      '--config',
      join(dir, 'farm.yaml'),
      '--broker',
      broker.url,
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/devices \d\/5 connected \| sent \d+/);
    // Sped up, the run is stamped from the past up to now, and says what that means against a busier service.
    expect(run.stderr).toMatch(/NOTE: readings are stamped from .* \(simulated\) up to now/);
    expect(run.stderr).toContain('stores these but its rules skip them');
    expect(run.stdout).toMatch(/Finished scenario typhoon/);
    expect(run.stdout).toMatch(/messages sent\s+\d+/);
    expect(run.stdout).toMatch(/errors\s+0/);
    expect(run.stdout).toMatch(/memory\s+peak RSS \d+ MB/);
    expect(broker.published.filter((p) => p.topic === 'farm/drain/gauge-1/gauge-1-rain/telemetry').length).toBeGreaterThan(10);
  });

  it('load mode runs synthetic devices with --load-secret and stops by itself', async () => {
    broker = await startTestBroker(new Map(Array.from({ length: 20 }, (_, i) => [`load-${String(i).padStart(5, '0')}`, 'load-secret-9'])));
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    writeFileSync(join(dir, 'empty.yaml'), stringify(farm({ s: [gaugeZone('g')] })));
    const run = await cli([
      '--load',
      '20',
      '--rate',
      '100',
      '--duration',
      '1',
      '--config',
      join(dir, 'empty.yaml'),
      '--broker',
      broker.url,
      '--load-secret',
      'load-secret-9',
    ]);
    expect(run.stdout).toMatch(/Finished load run/);
    expect(run.code).toBe(0);
    expect(broker.published.filter((p) => p.topic.endsWith('/telemetry')).length).toBeGreaterThan(50);
  });
});
