import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { loadFarmConfig } from '../../core/config/load.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { DEMO_CONFIG } from '../helpers/service.js';

/** `npm start` on the demo farm runs the simulated farm by default; SIMULATE=false turns it off. */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function startMain(extraEnv: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'farm-sim-start-'));
  dirs.push(dataDir);
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    MQTT_PORT: String(mqttPort),
    HTTP_PORT: String(httpPort),
    MQTT_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  delete env.SIMULATE;
  delete env.FARM_CONFIG; // the default farm file: the bundled demo
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const health = async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
    return res.ok ? ((await res.json()) as { checks: { mqttClients?: number } }) : undefined;
  };
  await waitFor(health, `GET /health (output: ${output.slice(-500)})`, 45_000, 200);
  const accepted = async () =>
    Number(/^farm_readings_accepted_total (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text())?.[1] ?? 0);
  return {
    dataDir,
    health,
    accepted,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const demoDevices = loadFarmConfig(DEMO_CONFIG).sites.flatMap((s) => s.zones.flatMap((z) => z.devices));
const sensors = demoDevices.filter((d) => d.role === 'sensor').map((d) => d.id);

describe.concurrent('npm start on the demo farm', () => {
  it('runs the simulated farm by default: every demo device connects and readings stamped now are stored', async () => {
    const startedAt = Date.now();
    const main = await startMain({});
    let code: number | null;
    try {
      await waitFor(
        async () => ((await main.health())?.checks.mqttClients ?? 0) >= demoDevices.length || undefined,
        `${demoDevices.length} simulated devices connected`,
        30_000,
        200,
      );
      // normal-day at speed 1: the sensors report one after another, each every 10 s; two rounds = every one reported.
      await waitFor(async () => (await main.accepted()) >= 2 * sensors.length || undefined, 'two rounds of readings', 40_000, 250);
    } finally {
      code = await main.stop();
    }
    expect(code).toBe(0);
    const store = createSqliteStore({ dataDir: main.dataDir, logger: silentLogger() });
    await store.init();
    const latest = await store.latest();
    await store.close();
    expect(new Set(latest.map((l) => l.device))).toEqual(new Set(sensors));
    for (const l of latest) {
      expect(l.ts).toBeGreaterThanOrEqual(startedAt);
      expect(l.ts).toBeLessThanOrEqual(Date.now());
    }
  }, 90_000);

  it('SIMULATE=false starts no simulated device', async () => {
    const main = await startMain({ SIMULATE: 'false' });
    let clients: number | undefined;
    try {
      await new Promise((r) => setTimeout(r, 3000));
      clients = (await main.health())?.checks.mqttClients;
    } finally {
      await main.stop();
    }
    expect(clients).toBe(0);
  }, 60_000);
});
