import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseCliArgs } from '../../simulators/cli-args.js';
import { farm, gaugeZone, SECRET, shedZone } from './fixtures.js';
import { startTestBroker, type TestBroker } from './test-broker.js';

/** Runs `simulators/cli.ts` as a user would (through tsx) and returns its exit code and output. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'simulators/cli.ts', ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
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
    const o = parseCliArgs(['--scenario', 'typhoon', '--speed', '60', '--seed', '7', '--fault', 'stuck:shed-1-env@60', '--duration', '2h'], { MQTT_URL: 'mqtt://broker:1883', FARM_CONFIG: 'farm.yaml' });
    expect(o).toMatchObject({ scenario: 'typhoon', speed: 60, seed: 7, durationSec: 7200, broker: 'mqtt://broker:1883', config: 'farm.yaml', qos: 1, faults: [{ kind: 'stuck', device: 'shed-1-env', fromSec: 60 }] });
    expect(parseCliArgs([], {})).toMatchObject({ scenario: 'normal-day', speed: 1, seed: 1, broker: 'mqtt://127.0.0.1:1883', config: 'config/demo-farm.yaml' });
    expect(parseCliArgs(['--load', '100', '--rate', '50'], {})).toMatchObject({ load: 100, rate: 50, qos: 0 });
    expect(() => parseCliArgs(['--speed', 'fast'], {})).toThrow(/--speed must be a positive number/);
    expect(() => parseCliArgs(['--load', '20000'], {})).toThrow(/1 to 10000/);
    expect(() => parseCliArgs(['--bogus'], {})).toThrow(/--help/);
  });

  it('--help explains the options and exits 0; a bad scenario exits 2 naming the choices', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--scenario <name>.*typhoon/);
    expect(help.stdout).toMatch(/--load <n>/);
    const bad = await cli(['--scenario', 'earthquake']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/choose one of normal-day, heat-wave/);
  });

  it('plays a scenario against a broker, shows progress and prints a summary', async () => {
    const f = farm({ huyang: [shedZone(1)], drain: [gaugeZone('gauge-1')] });
    broker = await startTestBroker(new Map(f.sites.flatMap((s) => s.zones.flatMap((z) => z.devices.map((d) => [d.id, SECRET] as const)))));
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    writeFileSync(join(dir, 'farm.yaml'), stringify(f));
    const run = await cli(['--scenario', 'typhoon', '--speed', '1800', '--duration', '1h', '--report-every', '1m', '--seed', '7', '--config', join(dir, 'farm.yaml'), '--broker', broker.url]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/devices \d\/5 connected \| sent \d+/);
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
    const run = await cli(['--load', '20', '--rate', '100', '--duration', '1', '--config', join(dir, 'empty.yaml'), '--broker', broker.url, '--load-secret', 'load-secret-9']);
    expect(run.stdout).toMatch(/Finished load run/);
    expect(run.code).toBe(0);
    expect(broker.published.filter((p) => p.topic.endsWith('/telemetry')).length).toBeGreaterThan(50);
  });
});
