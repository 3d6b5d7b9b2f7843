import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bannerLines, developmentLogins, developmentSecrets, developmentSecretsWarning, unusableDevicesWarning } from '../../app/first-run.js';
import { loadFarmConfig } from '../../core/config/load.js';
import { silentLogger } from '../../core/logger.js';
import { backfillHistory } from '../../simulators/backfill.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { DEMO_CONFIG } from '../helpers/service.js';

/** What a newcomer sees on `npm start`: a few readable lines, a banner, and a dashboard with a week of history. */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
const demo = loadFarmConfig(DEMO_CONFIG);
const DAY = 86_400_000;

describe('start-up messages', () => {
  it('counts the development secrets in one warning and names the users; devices without any secret get their own', () => {
    const s = developmentSecrets(demo);
    expect(s.devices.length).toBeGreaterThan(30);
    expect(developmentSecretsWarning(s)).toMatch(new RegExp(`^development secrets: ${s.devices.length} devices and 3 users \\(admin, ops, viewer\\)`));
    expect(unusableDevicesWarning(s)).toBeUndefined();
    expect(unusableDevicesWarning({ devices: [], users: [], unusable: ['pipe-9'] })).toMatch(/^1 device \(pipe-9\) has no secret and cannot connect/);
    expect(developmentSecretsWarning({ devices: [], users: [], unusable: [] })).toBeUndefined();
  });

  it('the banner gives the address, each development login with its role, and the history filled in', () => {
    const lines = bannerLines({
      dashboardUrl: 'http://localhost:3000',
      mqtt: 'localhost:1883',
      configPath: 'config/demo-farm.yaml',
      sites: 3,
      devices: 43,
      simulated: true,
      history: '7 days',
      logins: developmentLogins(demo),
    }).join('\n');
    expect(lines).toContain('Dashboard   http://localhost:3000');
    expect(lines).toMatch(/Log in as {3}admin \/ dev-only-admin +\(admin\)/);
    expect(lines).toMatch(/viewer \/ dev-only-viewer +\(viewer\)/);
    expect(lines).toContain('History     7 days');
  });
});

describe('the demo farm back-fills a simulated week on its first start', () => {
  it('writes a week of readings for every sensor, rain included, and no alert; once only', async () => {
    const store = createSqliteStore({ dataDir: tempDir('farm-backfill-'), logger: silentLogger() });
    await store.init();
    try {
      const now = Date.now();
      const result = await backfillHistory({ farm: demo, store, logger: silentLogger(), now: () => now }, { days: 7 });
      expect(result).toMatchObject({ fromTs: now - 7 * DAY, toTs: now });
      const sensors = demo.sites.flatMap((s) => s.zones.flatMap((z) => z.devices.filter((d) => d.role === 'sensor')));
      // One reading per sensor every 5 minutes for 7 days.
      expect(result!.readings).toBe(sensors.length * 7 * 288);
      const temp = await store.history({
        metric: 'temperature',
        device: 'shed-1-env',
        from: now - 7 * DAY,
        to: now,
        everyMs: 3_600_000,
        timeZone: 'Asia/Shanghai',
      });
      expect(temp[0].buckets.length).toBeGreaterThanOrEqual(7 * 24 - 1);
      const rain = await store.history({ metric: 'rain_mm', from: now - 7 * DAY, to: now, everyMs: DAY, timeZone: 'Asia/Shanghai' });
      expect(rain.flatMap((s) => s.buckets).reduce((mm, b) => mm + (b.sum ?? 0), 0)).toBeGreaterThan(0);
      expect(await store.alerts({ from: now - 8 * DAY, to: now + 1 })).toEqual([]);
      expect(await backfillHistory({ farm: demo, store, logger: silentLogger(), now: () => now + 60_000 }, { days: 7 })).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 120_000);
});

describe('npm start on a terminal', () => {
  it('prints readable lines, one secrets warning, the banner, and the dashboard answers with a week of history', async () => {
    const dataDir = tempDir('farm-first-run-');
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      MQTT_PORT: String(mqttPort),
      HTTP_PORT: String(httpPort),
      MQTT_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NO_COLOR: '1',
    };
    delete env.SIMULATE;
    delete env.FARM_CONFIG;
    const startedAt = Date.now();
    // script(1) gives the service a real terminal, as a person running npm start has.
    const child = spawn('script', ['-qfec', `${process.execPath} --import tsx app/main.ts`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => output.includes('Stop with Ctrl-C') || undefined, `the banner (output so far: ${output.slice(-2000)})`, 90_000, 200);
      // eslint-disable-next-line no-control-regex -- colours, where the terminal gets them
      const text = output.replace(/\u001b\[[0-9;]*m/g, '');
      const lines = text.split(/\r?\n/).filter((l) => l.trim());
      expect(
        lines.filter((l) => l.trimStart().startsWith('{')),
        'no JSON lines on a terminal',
      ).toEqual([]);
      expect(lines.filter((l) => /WARN/.test(l) && /secret/.test(l))).toHaveLength(1);
      expect(text).toMatch(/history: 7 days filled in/);
      expect(text).toContain(`Dashboard   http://localhost:${httpPort}`);
      expect(text).toMatch(/Log in as {3}admin \/ dev-only-admin/);
      const login = await fetch(`http://127.0.0.1:${httpPort}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'viewer', password: 'dev-only-viewer' }),
      });
      const { token } = (await login.json()) as { token: string };
      const res = await fetch(`http://127.0.0.1:${httpPort}/api/readings?device=shed-1-env&metric=temperature&from=-7d&every=1h`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as { series: { buckets: { ts: number }[] }[] };
      expect(res.status).toBe(200);
      const buckets = body.series[0].buckets;
      expect(buckets.length).toBeGreaterThanOrEqual(7 * 24 - 1);
      expect(buckets[0].ts).toBeLessThan(Date.now() - 6.9 * DAY);
      // The history is readings only: no alert was made for the past week.
      const { alerts } = (await (
        await fetch(`http://127.0.0.1:${httpPort}/api/alerts?state=all&from=-8d`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { alerts: { ts: number }[] };
      expect(alerts.filter((a) => a.ts < startedAt)).toEqual([]);
    } finally {
      child.kill('SIGTERM');
    }
    await exited;
  }, 150_000);
});
