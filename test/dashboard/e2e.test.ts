import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import { buildTestDashboard, PASSWORDS, seedHistory, USER_NAMES, type TestDashboard, type TestRole } from './fixtures.js';

/**
 * The live page in headless Chromium against the real dashboard server, fed through the FarmBus the way ingest
 * and the rules engine feed it (here by the stand-ins in fakes.ts). Screenshots go to test-artifacts/dashboard/.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts/dashboard';

let t: TestDashboard;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Headless Chromium is needed for the dashboard end-to-end tests and ${CHROMIUM} is missing: install it with \`apt-get install -y chromium\`${process.env.CI === 'true' ? ' (CI=true: these tests must run in CI)' : ''}.`);
  mkdirSync(ARTIFACTS, { recursive: true });
  t = buildTestDashboard({ coalesceMs: 100 }, { automate: true, ackDelayMs: 300 });
  await seedHistory(t, Date.now(), 24 * 7, 30);
  const { port } = await t.dashboard.start();
  base = `http://127.0.0.1:${port}`;
  for (const d of t.deps.farm.devices()) t.bus.emit('status', { site: d.site, zone: d.zone, kind: d.kind, device: d.device, status: 'online', ts: Date.now() });
  t.rules.raise({ site: 'city', zone: 'pipe-a', device: 'pipe-a-level', rule: 'pipe-fill', severity: 'warning', level: 'orange', value: 74, message: 'Pipe A fill 74 %' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});

afterAll(async () => {
  await browser?.close();
  await t?.dashboard.stop();
});

function emitReading(device: string, metrics: Record<string, number>): void {
  const d = t.deps.farm.device(device)!;
  const reading: Reading = { site: d.site, zone: d.zone, kind: d.kind, device, ts: Date.now(), metrics };
  t.bus.emit('reading', reading);
}

async function loggedIn(role: TestRole, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(base);
  await page.getByTestId('login-username').fill(USER_NAMES[role]);
  await page.getByTestId('login-password').fill(PASSWORDS[role]);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('site-huyang').waitFor();
  await page.locator('[data-testid="conn-status"][data-state="connected"]').waitFor();
  return page;
}

async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
}

/** Waits until the element with this test id shows text matching `text` (the page updates asynchronously). */
async function seeText(page: Page, testId: string, text: string | RegExp, timeout = 5000): Promise<void> {
  await page.getByTestId(testId).filter({ hasText: text }).first().waitFor({ timeout });
}

const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });

describe('dashboard in a browser', () => {
  let operator: Page;

  it('an operator logs in and sees live readings change without reloading', async () => {
    operator = await loggedIn('operator');
    emitReading('shed-1-env', { temperature: 24.2, humidity: 71, nh3: 12.3 });
    await seeText(operator, 'reading-shed-1-env-nh3', '12.3');
    emitReading('shed-1-env', { nh3: 13.7 });
    await seeText(operator, 'reading-shed-1-env-nh3', '13.7');
    await seeText(operator, 'thi-shed-1', /23\.\d · severe/);
    await shot(operator, 'overview');
  });

  it('a reading over the ammonia threshold raises the alert and turns the fan on within seconds; the operator acknowledges it', async () => {
    await go(operator, '#/site/huyang');
    await seeText(operator, 'actuator-shed-1-fan-state', 'no report yet');
    emitReading('shed-1-env', { nh3: 31.5 });
    await seeText(operator, 'actuator-shed-1-fan-state', /^On$/, 5000);
    await operator.locator('h1[data-site="huyang"][data-severity="warning"]').waitFor({ timeout: 5000 });

    await go(operator, '#/alerts');
    const row = operator.getByTestId('alert-row').filter({ hasText: 'Ammonia 31.5' });
    await row.waitFor();
    await shot(operator, 'alerts');
    await row.getByTestId('ack-button').click();
    await operator.getByTestId('alert-row').filter({ hasText: 'acknowledged by otto' }).waitFor();
    expect(t.rules.calls.some((c) => c.method === 'acknowledge' && c.args[1] === 'otto')).toBe(true);
  });

  it('an operator switches an actuator to manual and commands it; its state shows once the actuator acknowledges', async () => {
    await go(operator, '#/site/huyang/zone/shed-1');
    await seeText(operator, 'actuator-shed-1-spray-mode', 'Auto');
    await operator.getByTestId('actuator-shed-1-spray-mode-toggle').click();
    await seeText(operator, 'actuator-shed-1-spray-mode', 'Manual');
    await operator.getByTestId('actuator-shed-1-spray-on').click();
    await operator.getByTestId('actuator-shed-1-spray-pending').waitFor({ state: 'visible' });
    await seeText(operator, 'actuator-shed-1-spray-state', /^On$/);
    await operator.getByTestId('actuator-shed-1-spray-pending').waitFor({ state: 'hidden' });

    await operator.getByTestId('actuator-shed-1-shutter-value').fill('40');
    await operator.getByTestId('actuator-shed-1-shutter-set').click();
    await seeText(operator, 'actuator-shed-1-shutter-state', 'On 40%');
    expect(t.rules.calls.filter((c) => c.method === 'setMode' || c.method === 'command').map((c) => c.args.slice(0, 3))).toEqual([
      ['shed-1-spray', 'manual', undefined],
      ['shed-1-spray', 'on', undefined],
      ['shed-1-shutter', 'set', 40],
    ]);
    await operator.locator('.mini-chart canvas').first().waitFor();
    await shot(operator, 'shed');
  });

  it('the drainage view grades pipe fill, totals rain and lists pipes at long-term high water', async () => {
    await go(operator, '#/site/city/drainage');
    await operator.locator('[data-testid="pipe-pipe-a-level"][data-grade="yellow"]').waitFor();
    emitReading('pipe-a-level', { fill: 90 });
    await operator.locator('[data-testid="pipe-pipe-a-level"][data-grade="red"]').waitFor();
    await seeText(operator, 'pipe-pipe-a-level-fill', '90%');
    await seeText(operator, 'high-water-list', 'Pipe A');
    await seeText(operator, 'rain-rain-1-gauge-1h', '0.0');
    emitReading('rain-1-gauge', { rain_mm: 2.5 });
    await seeText(operator, 'rain-rain-1-gauge-1h', '2.5');
    await shot(operator, 'drainage');
  });

  it('history charts come from the store for 1 h, 24 h and 7 d', async () => {
    await go(operator, '#/history/shed-1-env/nh3?range=24h');
    await operator.locator('[data-testid="history-chart"] canvas').waitFor();
    expect(Number(await operator.getByTestId('history-chart').getAttribute('data-points'))).toBeGreaterThan(40);
    await operator.getByTestId('range-7d').click();
    await operator.waitForFunction(() => Number(document.querySelector('[data-testid="history-chart"]')?.getAttribute('data-points')) >= 150);
  });

  it('the page shows when the live connection is lost and reconnects by itself', async () => {
    await go(operator, '#/site/huyang');
    await operator.evaluate(() => {
      const el = document.querySelector('[data-testid="conn-status"]')!;
      const seen: string[] = ((window as unknown as { connStates: string[] }).connStates = []);
      new MutationObserver(() => seen.push(el.getAttribute('data-state')!)).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    });
    for (const socket of t.dashboard.io.sockets.sockets.values()) socket.conn.close();
    await operator.waitForFunction(() => (window as unknown as { connStates: string[] }).connStates.includes('disconnected'));
    await operator.locator('[data-testid="conn-status"][data-state="connected"]').waitFor({ timeout: 10_000 });
    emitReading('shed-1-env', { nh3: 9.9 });
    await seeText(operator, 'reading-shed-1-env-nh3', '9.9');
  });

  it('the Chinese language switch relabels the page and is remembered', async () => {
    await operator.getByTestId('lang-switch').click();
    await seeText(operator, 'nav-overview', '总览');
    await seeText(operator, 'actuator-shed-1-fan-state', '开');
    expect(await operator.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await operator.reload();
    await seeText(operator, 'nav-overview', '总览');
    await seeText(operator, 'conn-status', '实时');
    await operator.getByTestId('lang-switch').click();
    await seeText(operator, 'nav-overview', 'Overview');
  });

  it('works at phone width and has a big-screen mode', async () => {
    const phone = await loggedIn('operator', { width: 375, height: 800 });
    await go(phone, '#/site/huyang');
    await phone.getByTestId('actuator-shed-1-fan-on').waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await phone.getByTestId('bigscreen-toggle').click();
    await phone.locator('body.big').waitFor();
    await phone.context().close();
  });

  it('a viewer sees the values but no controls, and the API refuses their commands', async () => {
    const viewer = await loggedIn('viewer');
    await go(viewer, '#/site/huyang');
    await seeText(viewer, 'actuator-shed-1-fan-state', /On|Off/);
    expect(await viewer.getByTestId('actuator-shed-1-fan-controls').count()).toBe(0);
    expect(await viewer.getByTestId('actuator-shed-1-fan-on').count()).toBe(0);
    await go(viewer, '#/alerts');
    await viewer.getByTestId('alert-row').first().waitFor();
    expect(await viewer.getByTestId('ack-button').count()).toBe(0);
    const status = await viewer.evaluate(async () => (await fetch('/api/actuators/shed-1-fan/command', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"action":"off"}' })).status);
    expect(status).toBe(403);
    await viewer.context().close();
  });

  it('logging out returns to the login form and closes the live connection', async () => {
    await operator.getByTestId('logout').click();
    await operator.getByTestId('login-form').waitFor();
    expect(await (await operator.context().request.get(`${base}/api/me`)).status()).toBe(401);
    await operator.context().close();
  });
});
