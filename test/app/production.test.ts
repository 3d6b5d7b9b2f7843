import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../scripts/build.js';
import { staleReason } from '../../scripts/sources.mjs';
import { freePort, waitFor } from '../helpers/ports.js';

/**
 * What an operator deploys: `npm run build`, then a production install (`npm ci --omit=dev`, as the image does with
 * `npm prune --omit=dev`) in a copy that has dist/ and the demo farm but no sources, then `node dist/app/main.js`.
 * The install runs with --ignore-scripts and takes better-sqlite3's compiled binary from this checkout, so the test
 * does not compile it again (a minute); everything else is the registry's packages as the lockfile names them.
 */
const exec = promisify(execFile);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

describe('a production install runs the compiled service', () => {
  let app: string;
  beforeAll(async () => {
    app = tempDir('farm-prod-');
    await build({ outDir: join(app, 'dist'), log: () => {} });
    for (const f of ['package.json', 'package-lock.json']) cpSync(f, join(app, f));
    cpSync('config', join(app, 'config'), { recursive: true });
    await exec('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, timeout: 240_000 });
    const native = 'node_modules/better-sqlite3/build/Release';
    mkdirSync(join(app, native), { recursive: true });
    cpSync(join(native, 'better_sqlite3.node'), join(app, native, 'better_sqlite3.node'));
  }, 300_000);

  it('has no development dependency installed: no tsx, esbuild, typescript or vitest', () => {
    for (const dev of ['tsx', 'esbuild', 'typescript', 'vitest', 'socket.io-client']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'fastify'))).toBe(true);
  });

  it('node dist/app/main.js serves the demo farm: health, the prebuilt page, a login, the simulated devices', async () => {
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: join(app, 'data'),
      MQTT_PORT: String(mqttPort),
      HTTP_PORT: String(httpPort),
      MQTT_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, ['dist/app/main.js'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output = (output + d).slice(-20_000)));
    child.stderr.on('data', (d) => (output = (output + d).slice(-20_000)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${httpPort}`;
    try {
      const health = await waitFor(
        async () => {
          const res = await fetch(`${base}/health`);
          return res.ok ? ((await res.json()) as { status: string; checks: { mqttClients: number } }) : undefined;
        },
        'GET /health',
        60_000,
        250,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${output}`);
      });
      expect(health.status).toBe('ok');
      const page = await fetch(`${base}/app.js`);
      expect(page.status).toBe(200);
      expect((await page.text()).length).toBeGreaterThan(10_000);
      expect((await fetch(`${base}/share.css`)).status).toBe(200);
      const login = await fetch(`${base}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'viewer', password: 'dev-only-viewer' }),
      });
      expect(login.status).toBe(200);
      const { token } = (await login.json()) as { token: string };
      const { sites } = (await (await fetch(`${base}/api/sites`, { headers: { authorization: `Bearer ${token}` } })).json()) as { sites: { id: string }[] };
      expect(sites.map((s) => s.id)).toContain('huyang');
      await waitFor(
        async () => {
          const h = (await (await fetch(`${base}/health`)).json()) as { checks: { mqttClients: number } };
          return h.checks.mqttClients > 10 || undefined;
        },
        'simulated devices connected',
        30_000,
        250,
      );
      // The image's HEALTHCHECK: exit 0 while /health answers 200, 1 when nothing answers.
      const check = (port: number) =>
        exec(process.execPath, ['dist/app/healthcheck.js'], { cwd: app, env: { PATH: process.env.PATH, HTTP_PORT: String(port) } }).then(
          () => 0,
          (err: { code?: number }) => err.code,
        );
      expect(await check(httpPort)).toBe(0);
      expect(await check(await freePort())).toBe(1);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
  }, 120_000);
});

describe('npm start builds when dist/ is missing or older than the sources', () => {
  it('says why it must build, and nothing once dist/ is newer than every source', () => {
    const root = tempDir('farm-stale-');
    mkdirSync(join(root, 'core'));
    writeFileSync(join(root, 'core/a.ts'), 'export const a = 1;\n');
    expect(staleReason(root)).toBe('dist/ is missing');
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist/build.json'), '{}\n');
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'core/a.ts'), past, past);
    expect(staleReason(root)).toBeUndefined();
    writeFileSync(join(root, 'core/a.ts'), 'export const a = 2;\n');
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'core/a.ts'), future, future);
    expect(staleReason(root)).toBe('the sources changed since the last build');
  });
});
