import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { SHED1_ENV } from '../helpers/service.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { silentLogger } from '../../core/logger.js';

/** Starts the service exactly as the README says (`npm start`), as its own process group. */
function npmStart(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn('npm', ['start'], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'farm-cli-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('npm start', () => {
  it('brings up the demo farm: /health answers, a published reading is stored, SIGTERM exits 0', async () => {
    const dataDir = tempDir();
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const proc = npmStart({ DATA_DIR: dataDir, MQTT_PORT: String(mqttPort), HTTP_PORT: String(httpPort), SIMULATE: 'false', LOG_LEVEL: 'info' });
    try {
      const health = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
          return res.ok ? ((await res.json()) as { status: string }) : undefined;
        },
        `GET /health (output so far: ${proc.output().slice(-500)})`,
        60_000,
        200,
      );
      expect(health.status).toBe('ok');
      expect(proc.output()).toContain('plain-text secret'); // start-up warns about development secrets

      const ts = Date.now() - 5000;
      const device = await connectDevice(mqttPort, SHED1_ENV.id, SHED1_ENV.secret);
      await device.publishAsync(SHED1_ENV.topic, JSON.stringify({ ts, metrics: { nh3: 18.25, temperature: 19.5 } }), { qos: 1 });
      await endClient(device);
    } finally {
      // SIGTERM to the service itself, as a process supervisor does; npm then exits with the service's own code.
      const servicePid = Number(/"pid":(\d+)[^\n]*"msg":"ready/.exec(proc.output())?.[1]);
      process.kill(Number.isInteger(servicePid) && servicePid > 0 ? servicePid : -proc.child.pid!, 'SIGTERM');
    }
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('stopped cleanly');

    const store = createSqliteStore({ dataDir, logger: silentLogger() });
    await store.init();
    const points = await store.raw({ device: SHED1_ENV.id, from: 0, to: Date.now() });
    await store.close();
    expect(points.map((p) => [p.metric, p.value]).sort()).toEqual([
      ['nh3', 18.25],
      ['temperature', 19.5],
    ]);
  });

  it('refuses an invalid config file, naming the path in the file and the reason', async () => {
    const dir = tempDir();
    const file = join(dir, 'farm.yaml');
    writeFileSync(file, 'sites:\n  - id: s1\n    zones:\n      - id: z1\n        kind: barn\n        devices: []\n');
    const proc = npmStart({ FARM_CONFIG: file, DATA_DIR: dir, MQTT_PORT: String(await freePort()), HTTP_PORT: String(await freePort()) });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain(`${file} is invalid`);
    expect(proc.output()).toMatch(/sites\[0\]\.zones\[0\]\.kind: .*shed/);
  });

  it('refuses a YAML alias bomb in the farm file with a clear error naming the cause, not a stack trace', async () => {
    const dir = tempDir();
    const file = join(dir, 'farm.yaml');
    // "Billion laughs": each level aliases the previous one nine times; expanded it would be 9^9 strings.
    const levels = ['a0: &a0 ["lol"]', ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`)];
    writeFileSync(file, `${levels.join('\n')}\nsites: *a9\n`);
    const proc = npmStart({ FARM_CONFIG: file, DATA_DIR: dir, MQTT_PORT: String(await freePort()), HTTP_PORT: String(await freePort()) });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain(`${file} is invalid`);
    expect(proc.output()).toMatch(/aliases/i);
    expect(proc.output()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a bad environment value naming the variable, the value and what it takes, not the (fine) farm file', async () => {
    const dir = tempDir();
    const proc = npmStart({ DATA_DIR: dir, MQTT_PORT: String(await freePort()), HTTP_PORT: 'abc' });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain('HTTP_PORT="abc": expected a TCP port: a whole number from 0 to 65535');
    expect(proc.output()).toContain('the farm file is not the problem');
    expect(proc.output()).not.toMatch(/Fix the file/);
  });

  it('refuses an unknown argument or part by name, with the usage', async () => {
    const bogus = spawn('npm', ['start', '--', '--onyl', 'rules'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const part = spawn('npm', ['start', '--', '--only', 'rulez'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const run = (child: ChildProcess) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        let output = '';
        child.stdout!.on('data', (d) => (output += d));
        child.stderr!.on('data', (d) => (output += d));
        child.once('exit', (code) => resolve({ code, output }));
      });
    const [a, b] = await Promise.all([run(bogus), run(part)]);
    expect(a.code).toBe(2);
    expect(a.output).toContain("Unknown option '--onyl'");
    expect(a.output).toContain('Usage: npm start [-- --only broker|ingest|rules|dashboard|simulate]');
    expect(b.code).toBe(2);
    expect(b.output).toContain('--only rulez: expected one of broker, ingest, rules, dashboard, simulate');
    for (const out of [a.output, b.output]) expect(out).not.toMatch(/Fix the file|\n\s+at /);
  });
});
