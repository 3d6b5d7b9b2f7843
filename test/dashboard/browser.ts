import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Headless Chromium for the dashboard end-to-end tests: launch, log in through the form, wait for text, screenshots. */
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = 'test-artifacts/dashboard';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Headless Chromium is needed for the dashboard end-to-end tests and ${CHROMIUM} is missing: install it with \`apt-get install -y chromium\`${process.env.CI === 'true' ? ' (CI=true: these tests must run in CI)' : ''}.`,
    );
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export async function logIn(
  browser: Browser,
  base: string,
  username: string,
  password: string,
  viewport = { width: 1280, height: 900 },
  path = '/',
): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(base + path);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('overview').waitFor();
  await page.locator('[data-testid="conn-status"][data-state="connected"]').waitFor();
  return page;
}

export async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
}

/** Waits until the element with this test id shows text matching `text` (the page updates asynchronously). */
export async function seeText(page: Page, testId: string, text: string | RegExp, timeout = 5000): Promise<void> {
  await page.getByTestId(testId).filter({ hasText: text }).first().waitFor({ timeout });
}

export async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage });
}
