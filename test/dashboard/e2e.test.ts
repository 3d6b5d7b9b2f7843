import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import { go, launchChromium, logIn, seeText } from './browser.js';
import { buildTestDashboard, PASSWORDS, seedHistory, USER_NAMES, type TestDashboard } from './fixtures.js';

/**
 * The page in headless Chromium against the real dashboard server, fed through its FarmBus by the stand-ins in
 * fakes.ts. The user journeys (live readings, a rule firing, acknowledging, manual control, viewer, language,
 * phone, big screen) run against the whole service with real devices in e2e-service.test.ts. These fakes are
 * kept only for what that test cannot set up: six hours of pipe history in dry weather (the long-term high
 * water list), rain arriving live into the 1 h / 24 h totals, and the server dropping the live connection;
 * and for a look at the browsable API documentation.
 */
let t: TestDashboard;
let browser: Browser;
let base: string;
let operator: Page;

beforeAll(async () => {
  browser = await launchChromium();
  t = await buildTestDashboard({ coalesceMs: 100 }, { ackDelayMs: 300 });
  await seedHistory(t, Date.now(), 24, 30);
  const { port } = await t.dashboard.start();
  base = `http://127.0.0.1:${port}`;
  for (const d of t.deps.farm.devices()) t.bus.emit('status', { site: d.site, zone: d.zone, kind: d.kind, device: d.device, status: 'online', ts: Date.now() });
  operator = await logIn(browser, base, USER_NAMES.operator, PASSWORDS.operator);
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

function emitReading(device: string, metrics: Record<string, number>): Reading {
  const d = t.deps.farm.device(device)!;
  const reading: Reading = { site: d.site, zone: d.zone, kind: d.kind, device, ts: Date.now(), metrics };
  t.bus.emit('reading', reading);
  return reading;
}

/**
 * Like ingest: live to the page first, into the store a moment later. A drainage snapshot computed in between
 * still counts it (the dashboard counts the rain it has seen live, dashboard/live-rain.ts).
 */
async function ingestReading(device: string, metrics: Record<string, number>): Promise<void> {
  await t.store.writeReadings([emitReading(device, metrics)]);
}

describe('dashboard in a browser, fed by stand-ins', () => {
  it('the drainage view grades pipe fill by the rule levels and lists pipes at long-term high water in dry weather', async () => {
    await go(operator, '#/site/city/drainage');
    await operator.locator('[data-testid="pipe-pipe-a-level"][data-grade="yellow"]').waitFor();
    emitReading('pipe-a-level', { fill: 90 });
    await operator.locator('[data-testid="pipe-pipe-a-level"][data-grade="red"]').waitFor();
    await seeText(operator, 'pipe-pipe-a-level-fill', '90%');
    await seeText(operator, 'high-water-list', 'Pipe A');
    expect(await operator.getByTestId('high-water-pipe-b-level').count()).toBe(0);
  });

  it('the overview shows the same high-water list, and rain arriving live adds to the 1 h / 24 h totals', async () => {
    await go(operator, '#/');
    await operator.getByTestId('site-city').getByTestId('high-water-pipe-a-level').waitFor();
    await seeText(operator, 'rain-rain-1-gauge-1h', '0.0');
    await ingestReading('rain-1-gauge', { rain_mm: 2.5 });
    await seeText(operator, 'rain-rain-1-gauge-1h', '2.5');
    await seeText(operator, 'rain-rain-1-gauge-24h', '2.5');
    await go(operator, '#/site/city/drainage');
    await seeText(operator, 'rain-rain-1-gauge-24h', '2.5');
  });

  it("a rainstorm warning on a gauge shows as that gauge's warning level as soon as it is raised", async () => {
    await seeText(operator, 'rain-rain-1-gauge-level', 'none');
    t.rules.raise({
      site: 'city',
      zone: 'rain-1',
      device: 'rain-1-gauge',
      rule: 'rainstorm-3h',
      severity: 'warning',
      level: 'orange',
      value: 62,
      message: 'Rainstorm orange: 62 mm in 3 h',
    });
    await operator.locator('[data-testid="rain-rain-1-gauge-level"].level-orange').waitFor();
    await seeText(operator, 'rain-rain-1-gauge-level', 'orange');
  });

  it('the page shows when the live connection is lost and reconnects by itself, then catches up', async () => {
    await go(operator, '#/site/huyang');
    await operator.evaluate(() => {
      const el = document.querySelector('[data-testid="conn-status"]')!;
      const seen: string[] = ((window as unknown as { connStates: string[] }).connStates = []);
      new MutationObserver(() => seen.push(el.getAttribute('data-state')!)).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    });
    // The browser goes offline, so the reading below is sent while the page cannot listen.
    await operator.context().setOffline(true);
    for (const socket of t.dashboard.io.sockets.sockets.values()) socket.conn.close();
    await operator.waitForFunction(() => (window as unknown as { connStates: string[] }).connStates.includes('disconnected'));
    await seeText(operator, 'conn-status', 'Connection lost');
    emitReading('shed-1-env', { nh3: 7.7 });
    await operator.waitForTimeout(500);
    expect(await operator.getByTestId('reading-shed-1-env-nh3').textContent()).not.toBe('7.7');
    await operator.context().setOffline(false);
    await operator.locator('[data-testid="conn-status"][data-state="connected"]').waitFor({ timeout: 15_000 });
    await seeText(operator, 'reading-shed-1-env-nh3', '7.7');
    emitReading('shed-1-env', { nh3: 9.9 });
    await seeText(operator, 'reading-shed-1-env-nh3', '9.9');
    // and in mg/m³, the unit of the Chinese standards (20 °C, 101.325 kPa): 9.9 × 17.031 / 24.06
    await seeText(operator, 'reading-shed-1-env-nh3-mgm3', '7.0');
  });

  it('the API documentation is browsable at /api/docs after login', async () => {
    const docs = await operator.context().newPage();
    const errors: string[] = [];
    docs.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await docs.goto(`${base}/api/docs`);
    await docs.locator('.swagger-ui .opblock-summary-path', { hasText: '/api/readings' }).first().waitFor({ timeout: 15_000 });
    await docs.locator('.swagger-ui .opblock-summary-path', { hasText: '/api/actuators/{id}/command' }).first().waitFor();
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
    await docs.close();
  });

  it('logging out returns to the login form and closes the live connection', async () => {
    const before = t.dashboard.stats().liveConnections;
    await operator.getByTestId('logout').click();
    await operator.getByTestId('login-form').waitFor();
    expect((await operator.context().request.get(`${base}/api/me`)).status()).toBe(401);
    await expect.poll(() => t.dashboard.stats().liveConnections).toBeLessThan(before);
    await operator.context().close();
  });
});
