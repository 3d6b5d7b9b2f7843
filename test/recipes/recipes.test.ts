import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireMosquitto } from '../cluster/helpers.js';
import { findInfluxd } from '../helpers/influxd.js';
import { freePort, waitFor } from '../helpers/ports.js';

/**
 * The README's multi-step recipes are scripts (scripts/recipes/*.sh), run here as a user runs them: real
 * Mosquitto, influxd and `npm start`, on free ports and in temp folders, each within a time bound. A recipe that
 * stops working fails here.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A temp folder the mosquitto user can enter too (Mosquitto started as root drops to it). */
function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'farm-recipe-'));
  chmodSync(d, 0o755);
  dirs.push(d);
  return d;
}

interface Run {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function runScript(script: string, args: string[], env: Record<string, string>): Run {
  // Its own process group, so that whatever is left can be found by the group id of the process we started.
  const child = spawn('bash', [script, ...args], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** What the recipe started ("started NAME (pid N"): all of it must be gone when the recipe ends. */
function startedPids(output: string): number[] {
  return [...output.matchAll(/started \S+ \(pid (\d+)/g)].map((m) => Number(m[1]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function finished(run: Run, boundMs: number): Promise<number | null> {
  const timer = setTimeout(() => {
    try {
      process.kill(-run.child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }, boundMs);
  const code = await run.exited;
  clearTimeout(timer);
  return code;
}

describe('README recipes, run as scripts', () => {
  it(
    'split topology: Mosquitto, InfluxDB and each part in its own process; simulated readings reach the dashboard and InfluxDB; Ctrl-C stops all of it',
    { timeout: 300_000 },
    async () => {
      requireMosquitto();
      expect(findInfluxd(), 'influxd (apt-get install -y influxdb)').toBeDefined();
      const ports = { MOSQUITTO_PORT: 0, INFLUX_PORT: 0, INFLUX_RPC_PORT: 0, DASHBOARD_PORT: 0, INGEST_PORT: 0, RULES_PORT: 0, SIMULATE_PORT: 0 };
      for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
      const env = Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)]));
      const run = runScript('scripts/recipes/split-topology.sh', [], { ...env, WORK_DIR: join(workDir(), 'split-run'), MQTT_SERVICE_PASSWORD: '' });
      try {
        await waitFor(
          () => {
            if (run.child.exitCode !== null) throw new Error(`the recipe exited ${run.child.exitCode}:\n${run.output()}`);
            return /^ready: dashboard on /m.test(run.output()) || undefined;
          },
          `the recipe to say ready (output: ${run.output()})`,
          240_000,
          250,
        );
        expect(run.output()).toContain(`Mosquitto listens on port ${ports.MOSQUITTO_PORT} of 127.0.0.1`);

        const base = `http://127.0.0.1:${ports.DASHBOARD_PORT}`;
        const login = await fetch(`${base}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password: 'dev-only-admin' }),
        });
        const { token } = (await login.json()) as { token: string };
        // The simulated shed sensor, through Mosquitto, ingest and the event bridge, on the dashboard's site view.
        const shed = await waitFor(
          async () => {
            const site = (await (await fetch(`${base}/api/sites/huyang`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
              zones: { id: string; devices: { id: string; status?: string; latest?: Record<string, { value: number }> }[] }[];
            };
            const env1 = site.zones.find((z) => z.id === 'shed-1')!.devices.find((d) => d.id === 'shed-1-env')!;
            return env1.status === 'online' && env1.latest?.temperature ? env1 : undefined;
          },
          'shed-1-env online with a temperature on the dashboard',
          60_000,
          500,
        );
        expect(shed.latest!.temperature.value).toBeGreaterThan(-50);
        // And stored in InfluxDB by the ingest process.
        const stored = await waitFor(
          async () => {
            const res = await fetch(
              `http://127.0.0.1:${ports.INFLUX_PORT}/query?db=farm&q=${encodeURIComponent(`SELECT count("temperature") FROM "telemetry" WHERE "device" = 'shed-1-env'`)}`,
            );
            const body = (await res.json()) as { results: { series?: { values: [string, number][] }[] }[] };
            const n = body.results[0].series?.[0].values[0][1] ?? 0;
            return n > 0 ? n : undefined;
          },
          'shed-1-env readings in InfluxDB',
          60_000,
          500,
        );
        expect(stored).toBeGreaterThan(0);
        const simulate = (await (await fetch(`http://127.0.0.1:${ports.SIMULATE_PORT}/health`)).json()) as { status: string; checks: { connected: number } };
        expect(simulate).toMatchObject({ status: 'ok', checks: { connected: 43 } });
      } finally {
        run.child.kill('SIGINT'); // Ctrl-C
      }
      expect(await finished(run, 60_000)).toBe(0);
      expect(run.output()).toContain('stopping');
      const pids = startedPids(run.output());
      expect(pids).toHaveLength(6); // mosquitto, influxd, ingest, rules, dashboard, simulate
      expect(pids.filter(alive)).toEqual([]);
    },
  );

  it('provisioning a device: the secret printed once lets it publish, and its reading comes back over the API', { timeout: 180_000 }, async () => {
    const dir = workDir();
    const run = runScript('scripts/recipes/provision-device.sh', [], {
      WORK_DIR: dir,
      MQTT_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
    });
    const code = await finished(run, 150_000);
    expect(code, run.output()).toBe(0);
    expect(run.output()).toContain('Provisioned device shed-5-env in the new zone huyang/shed-5 ("Shed 5")');
    expect(run.output()).toContain('Shed 5 / shed-5-env: humidity 63, nh3 8.5, temperature 21.5');
    const secret = /only its scrypt hash is stored\):\n(\S+)/.exec(run.output())![1];
    const farm = readFileSync(join(dir, 'my-farm.yaml'), 'utf8');
    expect(farm).not.toContain(secret);
    expect(farm).toMatch(/- \{ id: shed-5-env, role: sensor, metrics: \[temperature, humidity, nh3\], secretHash: "scrypt\$/);
    expect(startedPids(run.output()).filter(alive)).toEqual([]);
  });

  it('a simulator run against the service: the scenario plays, and its readings are stored and charted', { timeout: 180_000 }, async () => {
    const run = runScript('scripts/recipes/simulator-run.sh', ['ammonia-buildup', '120', '20m'], {
      WORK_DIR: workDir(),
      MQTT_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
    });
    const code = await finished(run, 150_000);
    expect(code, run.output()).toBe(0);
    expect(run.output()).toMatch(/Finished scenario ammonia-buildup\n\s+simulated\s+20m00s/);
    expect(run.output()).toMatch(/errors\s+0/);
    const stored = Number(/shed-1-env nh3: (\d+) readings stored/.exec(run.output())?.[1]);
    expect(stored).toBeGreaterThan(0);
    expect(run.output()).toMatch(/^alerts: \d+/m);
    expect(startedPids(run.output()).filter(alive)).toEqual([]);
  });
});
