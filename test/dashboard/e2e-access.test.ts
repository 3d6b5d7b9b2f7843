import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { go, launchChromium, logIn, seeText, shot } from './browser.js';
import { buildTestDashboard, PASSWORDS, testFarmConfig, USER_NAMES, type TestDashboard } from './fixtures.js';

/**
 * In headless Chromium: the share page on a phone (390 x 844) in English and Chinese, a revoked link; the pages
 * operators and admins use to share zones, manage users with their sites, wall displays and the audit log; the
 * CSV download buttons; a user limited to one site. Screenshots go to test-artifacts/dashboard/.
 */
const PHONE = { width: 390, height: 844 };
const HOUR = 3_600_000;
let t: TestDashboard;
let browser: Browser;
let base: string;
let admin: Page;

beforeAll(async () => {
  browser = await launchChromium();
  const defaults = testFarmConfig();
  const config = testFarmConfig({
    users: [
      ...defaults.users.map((u) => ({ name: u.name, role: u.role, password: u.password })),
      { name: 'drain-eng', role: 'operator', sites: ['city'], password: 'drain-engineer-pw' },
    ],
  });
  t = await buildTestDashboard({}, { config });
  // A week of the field's soil moisture and temperature, hourly-ish, with a daily swing.
  const now = Date.now();
  const readings = [];
  for (let ts = now - 7 * 24 * HOUR; ts <= now; ts += 30 * 60_000) {
    const day = Math.sin((((ts / HOUR) % 24) / 24) * 2 * Math.PI);
    readings.push(
      {
        site: 'huyang',
        zone: 'field-1',
        kind: 'field' as const,
        device: 'field-1-soil',
        ts,
        metrics: { soil_moisture: 31 + 4 * day - ((now - ts) / (7 * 24 * HOUR)) * 3, soil_temperature: 12 + 5 * day },
      },
      { site: 'huyang', zone: 'shed-1', kind: 'shed' as const, device: 'shed-1-env', ts, metrics: { temperature: 19 + 3 * day, humidity: 62, nh3: 9 } },
    );
  }
  await t.store.writeReadings(readings);
  const { port } = await t.dashboard.start();
  base = `http://127.0.0.1:${port}`;
  admin = await logIn(browser, base, USER_NAMES.admin, PASSWORDS.admin);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function phone(lang: 'en' | 'zh-CN'): Promise<Page> {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: lang });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  return page;
}

describe('a share link on a phone', () => {
  let url = '';

  it('an operator creates it on the share page: one zone, chosen metrics, a number of days; the link is shown once', async () => {
    const operator = await logIn(browser, base, USER_NAMES.operator, PASSWORDS.operator);
    await go(operator, '#/shares');
    await operator.getByTestId('share-zone-select').selectOption('huyang/field-1');
    await operator.locator('input[name="metric"][value="soil_moisture"]').check();
    await operator.locator('input[name="metric"][value="soil_temperature"]').check();
    await operator.getByTestId('share-days').fill('90');
    await operator.getByTestId('share-create').click();
    url = (await operator.getByTestId('new-link-url').textContent())!;
    expect(url).toMatch(new RegExp(`^${base}/share/[\\w-]{43}$`));
    await operator.getByTestId('share-row').first().waitFor();
    await seeText(operator, 'token-state', 'active');
    await operator.context().close();
  });

  it('opens without a login: the zone name, live values and 7 days of hourly charts, nothing else, no controls (English)', async () => {
    const page = await phone('en');
    await page.goto(url);
    await seeText(page, 'share-zone', 'North field');
    await seeText(page, 'share-value-soil_moisture', /Soil moisture\s*\d+\.\d\s*% vol/);
    await page.locator('[data-testid="share-chart-soil_moisture"] canvas').waitFor();
    const points = Number(await page.getByTestId('share-chart-soil_moisture').getAttribute('data-points'));
    expect(points).toBeGreaterThanOrEqual(7 * 24 - 1);
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(/Shed|shed-1|Pipe|City|Ammonia|Log out|Sign in/);
    // The language switch is the only button: nothing to command, acknowledge or navigate to.
    expect(await page.locator('button').count()).toBe(1);
    expect(await page.locator('a, input, select, form').count()).toBe(0);
    // Fits the phone: nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await shot(page, 'share-phone');
    // Values follow the farm: a new reading shows at the next refresh (every 30 s) or on reload.
    await t.store.writeReadings([
      { site: 'huyang', zone: 'field-1', kind: 'field', device: 'field-1-soil', ts: Date.now(), metrics: { soil_moisture: 44.4, soil_temperature: 15 } },
    ]);
    await page.reload();
    await seeText(page, 'share-value-soil_moisture', '44.4');
    await page.context().close();
  });

  it('in Chinese on a Chinese phone, and the switch changes the language', async () => {
    const page = await phone('zh-CN');
    await page.goto(url);
    await seeText(page, 'share-value-soil_moisture', '土壤湿度');
    await seeText(page, 'share-zone', 'North field');
    await page.getByText('最近 7 天').first().waitFor();
    await shot(page, 'share-phone-zh');
    await page.getByTestId('share-lang').click();
    await seeText(page, 'share-value-soil_moisture', 'Soil moisture');
    await page.context().close();
  });

  it('once revoked, shows in both languages that the link is gone', async () => {
    const operator = await logIn(browser, base, USER_NAMES.operator, PASSWORDS.operator);
    await go(operator, '#/shares');
    operator.once('dialog', (d) => void d.accept());
    await operator.getByTestId('revoke-share').first().click();
    await seeText(operator, 'token-state', 'revoked');
    await operator.context().close();
    const page = await phone('en');
    const res = await page.goto(url);
    expect(res?.status()).toBe(404);
    await seeText(page, 'share-gone', 'This link has expired or was revoked');
    await seeText(page, 'share-gone', '此链接已过期或已被撤销');
    await shot(page, 'share-phone-revoked');
    await page.context().close();
  });
});

describe('admin pages', () => {
  it('users: an admin limits a user to a site; the user then sees only that site', async () => {
    await go(admin, '#/users');
    await admin.getByTestId('user-name').fill('pipe-crew');
    await admin.getByTestId('user-role').selectOption('viewer');
    await admin.getByTestId('user-password').fill('pipe-crew-password');
    await admin.locator('input[name="user-site"][value="city"]').check();
    await admin.getByTestId('user-save').click();
    await admin.locator('[data-testid="user-row"][data-user="pipe-crew"] [data-testid="user-sites"]', { hasText: 'City drainage' }).waitFor();
    await shot(admin, 'users');
    const crew = await logIn(browser, base, 'pipe-crew', 'pipe-crew-password');
    await crew.getByTestId('site-city').waitFor();
    expect(await crew.getByTestId('site-huyang').count()).toBe(0);
    expect(await crew.locator('body').innerText()).not.toMatch(/Huyang|Shed 1/);
    await crew.context().close();
  });

  it('wall displays: a token is created, its link opened on the screen logs it in read-only, then it is revoked', async () => {
    await go(admin, '#/displays');
    await admin.getByTestId('display-name').fill('control room wall');
    await admin.getByTestId('display-create').click();
    const link = (await admin.getByTestId('new-link-url').textContent())!;
    const wall = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    await wall.goto(link);
    await wall.getByTestId('overview').waitFor();
    await wall.locator('[data-testid="conn-status"][data-state="connected"]').waitFor();
    expect(await wall.evaluate(() => location.pathname + location.search)).toBe('/?big');
    expect(await wall.locator('[data-action]').count()).toBe(0); // a viewer: no controls
    admin.once('dialog', (d) => void d.accept());
    await admin.getByTestId('revoke-display').first().click();
    await wall.getByTestId('login-form').waitFor({ timeout: 10_000 });
    await wall.context().close();
  });

  it('audit log: the entries of what just happened, in English and Chinese', async () => {
    await go(admin, '#/audit');
    await admin.getByTestId('audit-table').waitFor();
    await admin.locator('[data-testid="audit-row"][data-action="share.revoke"]').first().waitFor();
    await admin.locator('[data-testid="audit-row"][data-action="display.revoke"]').first().waitFor();
    await admin.locator('[data-testid="audit-row"][data-action="login"][data-outcome="ok"]').first().waitFor();
    await admin.getByTestId('audit-action').selectOption('user.put');
    await admin.getByTestId('audit-apply').click();
    // The filtered list replaces the whole one: only the user change is left.
    await expect.poll(() => admin.locator('[data-testid="audit-row"]').count()).toBe(1);
    await admin.locator('[data-testid="audit-row"][data-action="user.put"]', { hasText: 'pipe-crew' }).waitFor();
    await shot(admin, 'audit');
    await admin.getByTestId('lang-switch').click();
    await admin.getByText('审计日志').first().waitFor();
    await admin.locator('[data-testid="audit-row"]', { hasText: '添加或修改用户' }).waitFor();
    await shot(admin, 'audit-zh');
    await admin.getByTestId('lang-switch').click();
  });
});

describe('leaving a page while it loads', () => {
  it("the audit log's late answer does not replace the history page the reader went on to", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await admin.route('**/api/audit?*', async (route) => {
      await held;
      await route.continue();
    });
    try {
      await go(admin, '#/users'); // from another page, so that opening the audit log asks for it
      await admin.getByTestId('users-table').waitFor();
      await go(admin, '#/audit');
      await admin.getByTestId('audit-filters').waitFor();
      await go(admin, '#/history/field-1-soil/soil_moisture?range=24h');
      await admin.locator('[data-testid="history-chart"][data-points]').waitFor();
      const answered = admin.waitForEvent('requestfinished', (r) => r.url().includes('/api/audit?'));
      release();
      await answered;
      // The page has read and handled the answer once a task queued after it has run.
      await admin.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
      expect(await admin.locator('main p.error').count()).toBe(0);
      expect(await admin.locator('[data-testid="history-chart"][data-points]').count()).toBe(1);
    } finally {
      await admin.unroute('**/api/audit?*');
    }
  });
});

describe('CSV download buttons', () => {
  it('on the history page: the chart range as CSV, header in the page language', async () => {
    await go(admin, '#/history/field-1-soil/soil_moisture?range=24h');
    await admin.locator('[data-testid="history-chart"][data-points]').waitFor();
    const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByTestId('download-csv').click()]);
    const text = readFileSync(await download.path(), 'utf8');
    const lines = text
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(download.suggestedFilename()).toMatch(/^readings-field-1-soil-soil_moisture-\d{4}-\d{2}-\d{2}\.csv$/);
    expect(lines[0]).toBe('time (UTC),site,zone,device,metric,value,unit');
    expect(lines.length).toBeGreaterThanOrEqual(48);
    expect(lines[1]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+00:00,huyang,field-1,field-1-soil,soil_moisture,[\d.]+,% vol$/);
  });

  it('on the alerts page: active alerts and the last 24 hours', async () => {
    t.rules.raise({ site: 'city', zone: 'pipe-a', device: 'pipe-a-level', severity: 'critical', level: 'red', message: 'Pipe A fill 91 %', value: 91 });
    await go(admin, '#/alerts');
    await admin.getByTestId('alert-row').first().waitFor();
    await admin.getByTestId('lang-switch').click();
    const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByTestId('download-alerts-active').click()]);
    const lines = readFileSync(await download.path(), 'utf8')
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe('时间 (UTC),站点,区域,设备,规则,严重程度,等级,状态,数值,内容,操作人,告警编号');
    expect(lines[1]).toMatch(/,city,pipe-a,pipe-a-level,test-rule,critical,red,raised,91,Pipe A fill 91 %,,/);
    await admin.getByTestId('lang-switch').click();
  });
});
