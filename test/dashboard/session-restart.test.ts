import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { launchChromium, logIn, seeText, shot } from './browser.js';

/**
 * The service as a real process, stopped and started again on the same DATA_DIR and ports:
 * - a login session and a wall display's token still work afterwards (they are in DATA_DIR/access.db, hashed);
 * - a browser on the dashboard keeps its data, greyed under "connection lost — reconnecting" while the service is
 *   away, and comes back by itself (no login form), live again;
 * - a user changed in the farm file between two starts has lost their session.
 */
const dir = mkdtempSync(join(tmpdir(), 'farm-sessions-'));
const dataDir = join(dir, 'data');
const demo = parse(readFileSync('config/demo-farm.yaml', 'utf8')) as { users: { name: string; role: string; password: string }[]; animals?: object };
// The demo names its ear-tag register relative to itself; the copies below live elsewhere.
demo.animals = { ...demo.animals, registerFile: resolve('config/demo-animals.csv') };
const farmFile = (viewerRole: string) => {
  const path = join(dir, `farm-${viewerRole}.yaml`);
  writeFileSync(path, stringify({ ...demo, users: demo.users.map((u) => (u.name === 'viewer' ? { ...u, role: viewerRole } : u)) }));
  return path;
};

let env: Record<string, string>;
let proc: ServiceProcess | undefined;
let browser: Browser | undefined;
let base: string;

async function start(farm = farmFile('viewer')): Promise<void> {
  proc = spawnService({ ...env, FARM_CONFIG: farm });
  await waitHealthy(Number(env.HTTP_PORT), proc);
}

async function stop(): Promise<void> {
  if (!proc || proc.child.exitCode !== null) return;
  proc.child.kill('SIGTERM');
  const { code } = await proc.exited;
  expect(code, proc.output().slice(-2000)).toBe(0);
}

async function api(path: string, token: string, init: RequestInit = {}) {
  return fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
  });
}

async function login(username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

async function publish(nh3: number): Promise<void> {
  const device = await connectDevice(Number(env.MQTT_PORT), 'shed-1-env', 'dev-only-shed-1-env');
  await device.publishAsync('farm/huyang/shed-1/shed-1-env/telemetry', JSON.stringify({ metrics: { nh3, temperature: 21, humidity: 60 } }), { qos: 1 });
  await endClient(device);
}

beforeAll(async () => {
  env = { ...(await servicePorts()), DATA_DIR: dataDir, MQTT_HOST: '127.0.0.1', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  base = `http://127.0.0.1:${env.HTTP_PORT}`;
  await start();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('a restart of the service', () => {
  let page: Page;
  let admin: string;
  let viewer: string;
  let display: { token: string; id: string };

  it('keeps the login sessions and display tokens, stored only as hashes', async () => {
    admin = await login('admin', 'dev-only-admin');
    viewer = await login('viewer', 'dev-only-viewer');
    const created = await api('/api/displays', admin, { method: 'POST', body: JSON.stringify({ name: 'control room wall' }) });
    display = (await created.json()) as { token: string; id: string };
    page = await logIn(browser!, base, 'ops', 'dev-only-operator');
    await page.evaluate(() => (location.hash = '#/site/huyang'));
    await publish(12.3);
    await seeText(page, 'reading-shed-1-env-nh3', '12.3', 15_000);

    await stop();
    await start();

    const me = await api('/api/me', admin);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: 'admin', role: 'admin', kind: 'login' });
    expect(await (await api('/api/me', display.token)).json()).toMatchObject({ user: 'control room wall', role: 'viewer', kind: 'display' });
    const files = ['access.db', 'access.db-wal']
      .map((f) => join(dataDir, f))
      .filter(existsSync)
      .map((f) => readFileSync(f));
    const stored = Buffer.concat(files);
    for (const token of [admin, viewer, display.token]) {
      expect(stored.includes(Buffer.from(token))).toBe(false);
      expect(stored.includes(Buffer.from(createHash('sha256').update(token).digest('hex')))).toBe(true);
    }
  }, 120_000);

  it('the page keeps its data greyed under "connection lost" while the service is away, and comes back by itself', async () => {
    await page.locator('[data-testid="conn-status"][data-state="connected"]').waitFor({ timeout: 20_000 });
    await publish(14.5);
    await seeText(page, 'reading-shed-1-env-nh3', '14.5', 15_000);

    await stop();
    await page.getByTestId('conn-lost').waitFor({ state: 'visible', timeout: 15_000 });
    await seeText(page, 'conn-lost', 'Connection lost — reconnecting');
    expect(await page.getByTestId('reading-shed-1-env-nh3').textContent()).toBe('14.5');
    expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(true);
    expect(await page.getByTestId('login-form').count()).toBe(0);
    await shot(page, 'connection-lost', false);

    await start();
    await page.locator('[data-testid="conn-status"][data-state="connected"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('conn-lost').waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(false);
    expect(await page.getByTestId('login-form').count()).toBe(0);
    await publish(16.7);
    await seeText(page, 'reading-shed-1-env-nh3', '16.7', 15_000);
    await shot(page, 'connection-back', false);
  }, 120_000);

  it('logout and a revoked display token end at once, and stay ended after another restart', async () => {
    expect((await api('/api/logout', admin, { method: 'POST', body: '{}' })).status).toBe(200);
    expect((await api('/api/me', admin)).status).toBe(401);
    const ops = await login('ops', 'dev-only-operator');
    const other = await login('admin', 'dev-only-admin');
    expect((await api(`/api/displays/${display.id}`, other, { method: 'DELETE' })).status).toBe(200);
    expect((await api('/api/me', display.token)).status).toBe(401);
    await stop();
    await start();
    expect((await api('/api/me', admin)).status).toBe(401);
    expect((await api('/api/me', display.token)).status).toBe(401);
    expect((await api('/api/me', ops)).status).toBe(200);
  }, 120_000);

  it('a user changed in the farm file while the service was stopped has to log in again', async () => {
    expect((await api('/api/me', viewer)).status).toBe(200);
    await stop();
    await start(farmFile('operator'));
    expect((await api('/api/me', viewer)).status).toBe(401);
    const again = await login('viewer', 'dev-only-viewer');
    expect(await (await api('/api/me', again)).json()).toMatchObject({ user: 'viewer', role: 'operator' });
  }, 120_000);
});
