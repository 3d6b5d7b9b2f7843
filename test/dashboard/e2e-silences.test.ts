import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookStandIn, type Receiver } from '../notifications/receivers.js';
import { go, launchChromium, logIn, seeText, shot } from './browser.js';
import { buildTestDashboard, PASSWORDS, testFarmConfig, USER_NAMES, type TestDashboard } from './fixtures.js';

/**
 * The alerts page in headless Chromium: each alert's notification deliveries, silencing an alert from its row,
 * the silences list in English and Chinese. The real dashboard and the real notifications component (journal,
 * grouping, sending) behind it; alerts come from the rules stand-in of fakes.ts, and the channel is a real local
 * webhook receiver standing in for a duty phone's gateway.
 */
let t: TestDashboard;
let hook: Receiver;
let browser: Browser;
let base: string;
let operator: Page;

beforeAll(async () => {
  hook = await webhookStandIn();
  browser = await launchChromium();
  t = await buildTestDashboard({}, { config: testFarmConfig({ channelUrl: `${hook.url}/duty` }) });
  const { port } = await t.dashboard.start();
  base = `http://127.0.0.1:${port}`;
  operator = await logIn(browser, base, USER_NAMES.operator, PASSWORDS.operator);
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await hook?.close();
});

describe('alerts page: deliveries and silences', () => {
  it('shows where an alert was sent, lets an operator silence it, lists the silence, and marks later alerts it holds back', async () => {
    const first = t.rules.raise({
      site: 'city',
      zone: 'pipe-a',
      device: 'pipe-a-level',
      rule: 'pipe-fill',
      severity: 'warning',
      level: 'orange',
      value: 74,
      metric: 'fill',
      message: 'Pipe A fill 74 %',
    });
    await hook.waitFor(1);
    await go(operator, '#/alerts');
    const row = operator.locator(`[data-testid="alert-row"][data-alert-id="${first.id}"]`);
    await row.locator('[data-testid="delivery"][data-channel="duty-hook"][data-outcome="sent"]').waitFor({ timeout: 15_000 });

    await row.getByTestId('silence-button').click();
    await row.getByTestId('silence-scope').selectOption('zone');
    await row.getByTestId('silence-duration').selectOption('240');
    await row.getByTestId('silence-reason').fill('dredging pipe A');
    await row.getByTestId('silence-submit').click();

    await seeText(operator, 'silences-table', 'dredging pipe A');
    await row.getByTestId('alert-silenced').waitFor();
    const [silence] = await t.notifications.silences();
    expect(silence).toMatchObject({ match: { site: 'city', zone: 'pipe-a' }, reason: 'dredging pipe A', createdBy: 'otto' });
    expect(silence.endsAt - silence.startsAt).toBe(240 * 60_000); // four hours from its start (createdAt is stamped a moment later, by the notifications part)

    // A new alert in the silenced zone is shown, marked silenced, and its delivery says silenced; the receiver gets
    // nothing for it. An alert elsewhere is the marker that sending goes on.
    const second = t.rules.raise({
      site: 'city',
      zone: 'pipe-a',
      device: 'pipe-a-level',
      rule: 'pipe-a-stale',
      severity: 'critical',
      message: 'Pipe A sensor offline',
    });
    const held = operator.locator(`[data-testid="alert-row"][data-alert-id="${second.id}"]`);
    await held.getByTestId('alert-silenced').waitFor();
    const marker = t.rules.raise({ site: 'city', zone: 'pipe-b', device: 'pipe-b-level', rule: 'pipe-fill', severity: 'warning', message: 'Pipe B fill 71 %' });
    await operator
      .locator(`[data-testid="alert-row"][data-alert-id="${marker.id}"] [data-testid="delivery"][data-outcome="sent"]`)
      .waitFor({ timeout: 20_000 });
    await held.locator('[data-testid="delivery"][data-outcome="silenced"]').waitFor({ timeout: 15_000 });
    expect(hook.received.flatMap((r) => r.body.alerts.map((a: any) => a.alert.id))).not.toContain(second.id);
    await shot(operator, 'alerts-silences');

    // In Chinese.
    await operator.getByTestId('lang-switch').click();
    await seeText(operator, 'silences-panel', '静默与维护窗口');
    await held.getByText(/已静默至/).waitFor();
    await shot(operator, 'alerts-silences-zh');
    await operator.getByTestId('lang-switch').click();

    // Ending it: the list empties and the alerts are no longer marked.
    await operator.getByTestId('silence-end').click();
    await operator.getByTestId('no-silences').waitFor();
    await held.getByTestId('alert-raised').waitFor();
    await held.getByTestId('alert-silenced').waitFor({ state: 'detached' });
  });

  it('a notification link opens the alert highlighted; a viewer sees silences but cannot make or end one', async () => {
    const a = t.rules.raise({ site: 'huyang', zone: 'shed-1', device: 'shed-1-env', rule: 'shed-ammonia', severity: 'warning', message: 'Ammonia 23 ppm' });
    await t.notifications.addSilence({ match: { site: 'huyang' }, endsAt: Date.now() + 3_600_000, reason: 'vet visit' }, 'otto');
    const viewer = await logIn(browser, base, USER_NAMES.viewer, PASSWORDS.viewer);
    await go(viewer, `#/alerts?alert=${encodeURIComponent(a.id)}`);
    await viewer.locator(`[data-testid="alert-row"][data-alert-id="${a.id}"].focused`).waitFor();
    await seeText(viewer, 'silences-table', 'vet visit');
    expect(await viewer.getByTestId('silence-button').count()).toBe(0);
    expect(await viewer.getByTestId('silence-end').count()).toBe(0);
    await viewer.context().close();
  });
});
