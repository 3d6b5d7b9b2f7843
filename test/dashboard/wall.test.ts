import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import type { Reading } from '../../core/domain.js';
import { indexFarm } from '../../core/farm-index.js';
import { createSimulatorRunner, type SimulatorRunner } from '../../simulators/runner.js';
import { waitFor } from '../helpers/ports.js';
import { DEMO_CONFIG, startTestService } from '../helpers/service.js';
import { axeViolations } from './axe.js';
import { go, launchChromium, logIn, shot } from './browser.js';
import { startActuator, startSensor, type TestActuator, type TestSensor } from './devices.js';

/**
 * The dashboard as a shift lead meets it at a 1920x1080 wall, at a 1366x768 desk and on a 390x844 phone, in English
 * and Chinese, on the whole service (broker, ingest, store, the real rules engine with the demo farm's rules):
 * sheds and fields are played by the simulator in real time, the drainage devices by this test as real MQTT
 * clients, so it can replay a storm (three hours of rain as each gauge's store-and-forward batch, every pipe
 * rising, the sump pump commanded and never answering). Every page passes axe-core (no serious or critical
 * violation) and is kept as a screenshot in test-artifacts/dashboard/ (wall-*, desk-*, phone-*, storm-*).
 */
const config = loadFarmConfig(DEMO_CONFIG);
const farm = indexFarm(config);
const SIZES = { wall: { width: 1920, height: 1080 }, desk: { width: 1366, height: 768 }, phone: { width: 390, height: 844 } } as const;
type Size = keyof typeof SIZES;
const LANGS = ['en', 'zh'] as const;
type Lang = (typeof LANGS)[number];
const USERS = { operator: ['ops', 'dev-only-operator'], viewer: ['viewer', 'dev-only-viewer'], admin: ['admin', 'dev-only-admin'] } as const;
const drainSensors = config.sites.find((s) => s.id === 'xihu-drain')!.zones.flatMap((z) => z.devices.filter((d) => d.role === 'sensor').map((d) => d.id));
/** The pipes' and the sump's level sensors, and the rain gauges. */
const levels = drainSensors.filter((d) => !d.startsWith('rain-'));
const gauges = drainSensors.filter((d) => d.startsWith('rain-'));
/** A drain zone's attribute in metres: a pipe's `diameterM` or `depthM` (its invert below the street). */
const attribute = (id: string, name: 'diameterM' | 'depthM') => {
  const d = farm.device(id)!;
  return Number(farm.zone(d.site, d.zone)!.config.attributes?.[name] ?? 1);
};
const sizeOf = (id: string) => attribute(id, 'diameterM');
const H = 3_600_000;

let svc: Awaited<ReturnType<typeof startTestService>>;
let runner: SimulatorRunner;
let browser: Browser;
let base: string;
const sensors = new Map<string, TestSensor>();
let pump: TestActuator;
let displayLink: string;

const address = (id: string) => {
  const d = farm.device(id)!;
  return { site: d.site, zone: d.zone, device: id, secret: d.config.secret! };
};

async function api(role: keyof typeof USERS, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const [username, password] = USERS[role];
  const login = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

/** Dry weather: each pipe a fifth full, the sump low, no rain. */
async function calm(): Promise<void> {
  await Promise.all(
    levels.map((id, i) =>
      sensors.get(id)!.send(id.startsWith('sump') ? { water_level: 0.8, fill: 20 } : { fill: 18 + i, water_level: sizeOf(id) * 0.2, flow: 100 + 60 * i }),
    ),
  );
  await Promise.all(gauges.map((id) => sensors.get(id)!.send({ rain_mm: 0 })));
}

/** A day of history for the charts: pipe-05's fill with a 6 h silence, rain-1's showers (until 4 h ago). */
async function seedHistory(now: number): Promise<void> {
  const readings: Reading[] = [];
  const at = (id: string, ts: number, metrics: Record<string, number>) => {
    const d = farm.device(id)!;
    readings.push({ site: d.site, zone: d.zone, kind: d.kind, device: id, ts, metrics });
  };
  for (let ts = now - 24 * H + 30_000; ts < now - 4 * H; ts += 10 * 60_000) {
    if (ts < now - 16 * H || ts > now - 10 * H) at('pipe-05-level', ts, { fill: 30 + 20 * Math.sin(ts / (3 * H)), water_level: 0.3 });
    at('rain-1-gauge', ts, { rain_mm: Math.floor(ts / H) % 6 === 0 ? 4.5 : 0 });
  }
  await svc.store.writeReadings(readings);
}

beforeAll(async () => {
  browser = await launchChromium();
  svc = await startTestService({ config });
  base = `http://127.0.0.1:${svc.httpPort}`;
  await seedHistory(Date.now());
  await Promise.all(drainSensors.map(async (id) => sensors.set(id, await startSensor(svc.mqttPort, address(id)))));
  pump = await startActuator(svc.mqttPort, address('sump-1-pump'));
  // A pump that takes commands and never answers: after its tries the rules raise "actuator not responding".
  pump.holdAcks = true;
  await calm();
  runner = createSimulatorRunner({
    farm: config,
    brokerUrl: `mqtt://127.0.0.1:${svc.mqttPort}`,
    secrets: (id) => (drainSensors.includes(id) || id === 'sump-1-pump' ? undefined : farm.device(id)?.config.secret),
    scenario: 'normal-day',
    seed: 3,
    speed: 1,
    reportEverySec: 5,
  });
  await runner.start();
  const display = await api('admin', 'POST', '/api/displays', { name: 'control room wall' });
  displayLink = `${base}/display/${display.json.token}`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await runner?.stop();
  await Promise.all([...sensors.values(), pump].map((d) => d?.close()));
  await svc?.cleanup();
}, 30_000);

async function openAs(role: keyof typeof USERS, size: Size, lang: Lang, hash = '#/'): Promise<Page> {
  const [username, password] = USERS[role];
  const page = await logIn(browser, base, username, password, SIZES[size]);
  if (lang === 'zh') {
    await page.getByTestId('lang-switch').click();
    await page.locator('html[lang="zh-CN"]').waitFor();
  }
  if (hash !== '#/') await go(page, hash);
  return page;
}

/** The page's data has arrived: no "Loading…" left and the live values are in. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => !/Loading…|加载中…/.test(document.querySelector('#view')?.textContent ?? ''));
  await page.waitForFunction(
    () =>
      Array.from(document.querySelectorAll('[data-testid^="reading-"], [data-testid$="-fill"]')).every((e) => e.textContent !== '—') ||
      !document.querySelector('[data-testid^="reading-"]'),
  );
}

async function noAxeProblems(page: Page, where: string): Promise<void> {
  const problems = await axeViolations(page);
  expect(problems, `${where}: ${JSON.stringify(problems, null, 1)}`).toEqual([]);
}

const PAGES = [
  { name: 'overview', hash: '#/', ready: '[data-testid="overview"]' },
  { name: 'shed', hash: '#/site/huyang/zone/shed-1', ready: '[data-testid="mini-chart-temperature"] canvas' },
  { name: 'drainage', hash: '#/site/xihu-drain/drainage', ready: '[data-testid="rain-gauges"]' },
  { name: 'alerts', hash: '#/alerts', ready: '[data-testid="alerts-panel"]' },
  { name: 'history-level', hash: '#/history/pipe-05-level/water_level?range=24h', ready: '[data-testid="history-chart"] canvas' },
  { name: 'history-rain', hash: '#/history/rain-1-gauge/rain_mm?range=24h', ready: '[data-testid="history-chart"] canvas' },
  { name: 'animals', hash: '#/animals', ready: '[data-testid="animals-table"], [data-testid="animals-none"]' },
] as const;

describe('every page at the wall, the desk and the phone, in English and Chinese', () => {
  for (const lang of LANGS)
    for (const size of ['desk', 'phone'] as const)
      it(`${size} ${lang}: each page passes axe-core and is kept as a screenshot`, async () => {
        const page = await openAs('operator', size, lang);
        for (const p of PAGES) {
          await go(page, p.hash);
          await page.locator(p.ready).first().waitFor({ timeout: 15_000 });
          await settled(page);
          await shot(page, `${size}-${p.name}-${lang}`, size !== 'phone');
          if (size === 'phone') await shot(page, `${size}-${p.name}-${lang}-full`);
          await noAxeProblems(page, `${size} ${lang} ${p.name}`);
          // Nothing wider than the screen on a phone.
          if (size === 'phone') expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(SIZES.phone.width);
        }
        if (size === 'phone') {
          // One line of top bar (no "Big screen" on it), a bottom tab bar with targets a thumb can hit.
          const bar = (await page.locator('header.topbar').boundingBox())!;
          expect(bar.height).toBeLessThan(60);
          expect(await page.getByTestId('bigscreen-toggle').isVisible()).toBe(false);
          for (const tab of ['tab-overview', 'tab-alerts', 'tab-animals', 'tab-more']) {
            const box = (await page.getByTestId(tab).boundingBox())!;
            expect(Math.min(box.width, box.height), tab).toBeGreaterThanOrEqual(44);
            expect(box.y + box.height, tab).toBeLessThanOrEqual(SIZES.phone.height + 1);
          }
          await page.getByTestId('tab-more').click();
          await page.getByTestId('more-menu').waitFor();
          await shot(page, `phone-more-${lang}`, false);
          await noAxeProblems(page, `phone ${lang} more menu`);
        }
        await page.context().close();
      }, 180_000);

  for (const lang of LANGS)
    it(`wall ${lang}: a display token opens the wall layout that fits the screen, with the clock, "data as of" and key numbers of at least 48 px`, async () => {
      const context = await browser.newContext({ viewport: SIZES.wall });
      await context.addInitScript((l) => localStorage.setItem('farm.lang', l), lang === 'zh' ? 'zh-CN' : 'en');
      const page = await context.newPage();
      await page.goto(displayLink);
      await page.getByTestId('wall').waitFor();
      await page.locator('[data-testid="conn-status"][data-state="connected"]').waitFor();
      await settled(page);
      await page.getByTestId('net-pipe-05').waitFor();
      await shot(page, `wall-overview-${lang}`, false);
      await page.waitForFunction(() => document.documentElement.scrollHeight <= window.innerHeight + 1, undefined, { timeout: 10_000 });
      await expect(page.getByTestId('wall-clock').textContent()).resolves.toMatch(/^\d\d:\d\d:\d\d$/);
      await expect(page.getByTestId('data-as-of').textContent()).resolves.toMatch(lang === 'zh' ? /^数据截至 .*UTC\+8$/ : /^Data as of .*UTC\+8$/);
      const sizes = await page.$$eval('.wall-metrics .metric:not(.heads) > .value, .net-pct', (els) =>
        els.map((e) => parseFloat(getComputedStyle(e).fontSize)),
      );
      expect(sizes.length).toBeGreaterThan(20);
      expect(Math.min(...sizes)).toBeGreaterThanOrEqual(48);
      // A wall display is read-only: no controls.
      expect(await page.locator('.act-controls').count()).toBe(0);
      await shot(page, `wall-overview-${lang}`, false);
      await noAxeProblems(page, `wall ${lang}`);
      await context.close();
    }, 60_000);
});

describe('old values and presence', () => {
  it('a sensor that stops reporting is greyed with the age of its values, then shows offline when it drops off', async () => {
    const page = await openAs('viewer', 'desk', 'en', '#/site/xihu-drain/drainage');
    await page.getByTestId('net-pipe-08').waitFor();
    // pipe-08 reports every 0.6 s for a moment: the page learns that interval...
    const pipe8 = sensors.get('pipe-08-level')!;
    for (let i = 0; i < 4; i++) {
      await pipe8.send({ fill: 22, water_level: 0.13, flow: 80 });
      await new Promise((r) => setTimeout(r, 600)); // the device's own pace, not a wait for the page
    }
    // ...and once its newest value is older than twice that, the node is greyed, the value carries its age and the
    // sensor is "silent".
    await page.locator('[data-testid="net-pipe-08"][data-fresh="old"]').waitFor({ timeout: 10_000 });
    await page
      .getByTestId('net-pipe-08-presence')
      .filter({ hasText: /^silent .*ago$/ })
      .waitFor({ timeout: 10_000 });
    await shot(page, 'desk-drainage-silent-sensor', false);
    // The sensor drops off (its Last Will): offline.
    await pipe8.close();
    await page
      .getByTestId('net-pipe-08-presence')
      .filter({ hasText: /^offline/ })
      .waitFor({ timeout: 10_000 });
    await go(page, '#/');
    await page
      .getByTestId('site-xihu-drain-online')
      .filter({ hasText: /^15 of 16 devices online$/ })
      .waitFor({ timeout: 10_000 });
    await page.getByTestId('pipe-pipe-08-level').and(page.locator('[data-presence="offline"]')).waitFor();
    // The Live pill says how old the newest message is.
    await page
      .getByTestId('conn-status')
      .filter({ hasText: /^Live · \d+ sec\. ago$/ })
      .waitFor();
    await page.context().close();
  }, 60_000);
});

describe('a storm', () => {
  let stormAt = 0;

  beforeAll(async () => {
    stormAt = Date.now();
    // Three hours of heavy rain at each gauge, kept by the gauge and sent in one batch (store-and-forward): about
    // 122 mm in 3 h (red), 41 mm in the last hour (orange), and so over the 6 h, 12 h and 24 h thresholds too.
    await Promise.all(
      gauges.map((id) =>
        sensors.get(id)!.sendBatch(Array.from({ length: 36 }, (_, i) => ({ ts: stormAt - (36 - i) * 5 * 60_000 + 1000, metrics: { rain_mm: 3.4 } }))),
      ),
    );
    // Every pipe still connected is surcharged to within 0.8 m of the street (the demo rules' red: 1 m); the sump
    // stands at its high-high level.
    await Promise.all(
      levels
        .filter((id) => id !== 'pipe-08-level')
        .map((id, i) => {
          if (id.startsWith('sump')) return sensors.get(id)!.send({ fill: 92, water_level: 3.7 });
          return sensors.get(id)!.send({ fill: 100, water_level: Math.round((attribute(id, 'depthM') - 0.8) * 100) / 100, flow: 900 + 50 * i });
        }),
    );
    // The sump's rule switches the pump on; the pump never answers: after its tries, "actuator not responding".
    await waitFor(
      async () => {
        const { json } = await api('viewer', 'GET', '/api/alerts?state=active');
        const alerts = json.alerts as { rule: string; metric: string | null }[];
        return alerts.some((a) => a.rule === 'system:actuator') &&
          alerts.filter((a) => a.metric === 'rain_mm').length >= 15 &&
          alerts.filter((a) => a.rule === 'storm-pipe-level').length >= 7
          ? alerts
          : undefined;
      },
      'the storm alerts and the pump not responding',
      60_000,
      500,
    );
  }, 90_000);

  for (const lang of LANGS)
    it(`the wall (${lang}) shows the rainstorm and "not responding" above the fold, grouped, and still fits the screen`, async () => {
      const context: BrowserContext = await browser.newContext({ viewport: SIZES.wall });
      await context.addInitScript((l) => localStorage.setItem('farm.lang', l), lang === 'zh' ? 'zh-CN' : 'en');
      const page = await context.newPage();
      await page.goto(displayLink);
      await page.getByTestId('wall').waitFor();
      await settled(page);
      const rain = page.locator('[data-testid="overview-alert"][data-rule^="rainstorm"]').first();
      const dead = page.locator('[data-testid="overview-alert"][data-rule="system:actuator"]');
      await rain.waitFor();
      await dead.waitFor();
      await shot(page, `storm-wall-${lang}`, false);
      await page.waitForFunction(() => document.documentElement.scrollHeight <= window.innerHeight + 1, undefined, { timeout: 10_000 });
      for (const item of [rain, dead]) {
        const box = (await item.boundingBox())!;
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(box.y + box.height).toBeLessThanOrEqual(SIZES.wall.height);
      }
      // One place per group: "7 pipes red", not seven places.
      const strip = await page.getByTestId('overview-alerts').textContent();
      expect(strip).toMatch(lang === 'zh' ? /7 条管道红色/ : /7 pipes red/);
      expect(await page.getByTestId('overview-alert').count()).toBeLessThanOrEqual(6);
      if (lang === 'zh') {
        expect(strip).toMatch(/暴雨/);
        expect(strip).toMatch(/执行器无响应/);
        expect(strip).not.toMatch(/Rainstorm|not responding|pipe-\d\d-level/);
      } else {
        expect(strip).toMatch(/Rainstorm red: 1\d\d mm in 3 h at Rain gauge \d/);
        expect(strip).toMatch(/Actuator not responding: Pumping station sump Pump/);
      }
      // Surcharge is visible: fill over 100 % and the metres above the pipe's top.
      await page
        .getByTestId('net-pipe-01-surcharge')
        .filter({ hasText: lang === 'zh' ? /超载 \+0\.90 m/ : /surcharged \+0\.90 m/ })
        .waitFor();
      await page.locator('[data-testid="net-pipe-01"][data-grade="red"]').waitFor();
      await shot(page, `storm-wall-${lang}`, false);
      await noAxeProblems(page, `storm wall ${lang}`);
      await context.close();
    }, 60_000);

  it('the drainage view on a phone stays short in the storm (grouped alerts, a compact network)', async () => {
    const page = await openAs('operator', 'phone', 'zh', '#/site/xihu-drain/drainage');
    await page.getByTestId('drainage-alerts').getByTestId('alert-group').first().waitFor();
    await settled(page);
    await shot(page, 'storm-phone-drainage-zh');
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height).toBeLessThan(2600);
    await noAxeProblems(page, 'storm phone drainage');
    await page.context().close();
  }, 60_000);

  it('alerts are grouped, unacknowledged first; a group is acknowledged at once, keeping when it was raised, each in the history once', async () => {
    const page = await openAs('operator', 'desk', 'en', '#/alerts');
    await settled(page);
    const pipesGroup = page.getByTestId('alert-group').filter({ has: page.getByTestId('group-title').filter({ hasText: /^7 pipes red$/ }) });
    await pipesGroup.waitFor();
    const n = await pipesGroup.getByTestId('alert-row').count();
    expect(n).toBe(7);
    await shot(page, 'storm-alerts-en');
    // Filters: the drainage site's informational ones (the 12 h rain windows, folded under each gauge's worst).
    await page.getByTestId('filter-site').selectOption('xihu-drain');
    await page.getByTestId('filter-severity').selectOption('info');
    await page
      .getByTestId('alerts-count')
      .filter({ hasText: /^3 of \d+ active alerts$/ })
      .waitFor();
    await page.getByTestId('filter-severity').selectOption('');
    await page.getByTestId('filter-site').selectOption('');
    await pipesGroup.getByTestId('ack-group').click();
    await page
      .getByTestId('toast')
      .filter({ hasText: `Acknowledged ${n}.` })
      .waitFor({ timeout: 15_000 });
    // Acknowledged groups go under "Acknowledged", each row with both times.
    const acked = page
      .getByTestId('alert-group')
      .filter({ has: page.locator('[data-state="acknowledged"]') })
      .first();
    await acked.evaluate((d) => ((d as HTMLDetailsElement).open = true));
    const row = acked.getByTestId('alert-row').first();
    await expect(row.getByTestId('alert-raised').textContent()).resolves.toMatch(/^raised \d\d:\d\d:\d\d UTC\+8$/);
    await expect(row.getByTestId('alert-acked').textContent()).resolves.toMatch(/^acknowledged by ops \d\d:\d\d:\d\d UTC\+8$/);
    // The last 24 hours: one "acknowledged" row per pipe (the answer and its live echo are one event).
    await page.waitForFunction(
      (count) =>
        document.querySelectorAll('[data-testid="history-row"]').length > 0 &&
        Array.from(document.querySelectorAll('[data-testid="history-row"]')).filter(
          (r) => /acknowledged/.test(r.textContent ?? '') && /Pipe (01|02|03|06|07|10|11) water level/.test(r.textContent ?? ''),
        ).length === count,
      n,
    );
    const ackRows = await page.$$eval(
      '[data-testid="history-row"]',
      (rows) => rows.filter((r) => /acknowledged/.test(r.textContent ?? '') && /Pipe (01|02|03|06|07|10|11) water level/.test(r.textContent ?? '')).length,
    );
    expect(ackRows).toBe(n);
    await shot(page, 'storm-alerts-acknowledged-en');
    // On the overview the pipes give up their place in the strip and are counted as acknowledged.
    await go(page, '#/');
    await page
      .getByTestId('strip-acked')
      .filter({ hasText: new RegExp(`^${n} acknowledged$`) })
      .waitFor();
    expect(await page.locator('[data-testid="overview-alert"][data-rule="storm-pipe-level"]').count()).toBe(0);
    await page.context().close();
  }, 90_000);

  it('the pump card says the command failed (not responding) instead of waiting', async () => {
    const page = await openAs('operator', 'desk', 'zh', '#/site/xihu-drain/zone/sump-1');
    await page
      .getByTestId('actuator-sump-1-pump-failed')
      .filter({ hasText: /无响应/ })
      .waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('actuator-sump-1-pump-pending').isVisible()).toBe(false);
    await shot(page, 'storm-pump-failed-zh', false);
    await page.context().close();
  }, 60_000);
});

describe('controls say what they will do', () => {
  it('a command in auto mode is a hold with an end the operator chooses; the waiting clears when the actuator answers', async () => {
    const page = await openAs('operator', 'desk', 'en', '#/site/huyang/zone/shed-2');
    const fan = 'actuator-shed-2-fan';
    await page
      .getByTestId(`${fan}-state`)
      .filter({ hasText: /^(On|Off)/ })
      .waitFor({ timeout: 15_000 });
    // Stateful toggles with names: "On: Shed 2 Fan", pressed when that is what the fan confirmed.
    await expect(page.getByTestId(`${fan}-on`).getAttribute('aria-label')).resolves.toBe('On: Shed 2 Fan');
    const state = (await page.getByTestId(`${fan}-state`).textContent())!.startsWith('On') ? 'on' : 'off';
    await expect(page.getByTestId(`${fan}-${state}`).getAttribute('aria-pressed')).resolves.toBe('true');
    // On: allowed whatever holds the fan (off could meet the minimum ventilation while heat stress is on).
    const target = 'on';
    await page.getByTestId(`${fan}-${target}`).click();
    await page
      .getByTestId(`${fan}-note`)
      .filter({ hasText: /^In auto mode this is a hold: a rule will take it back at \d\d:\d\d UTC\+8\.$/ })
      .waitFor();
    await page.getByTestId(`${fan}-hold-for`).selectOption('60');
    await shot(page, 'desk-command-confirm-en', false);
    await page.getByTestId(`${fan}-confirm`).click();
    await page
      .getByTestId(`${fan}-hold`)
      .filter({ hasText: new RegExp(`^held ${target} by ops until \\d\\d:\\d\\d UTC\\+8`) })
      .waitFor({ timeout: 15_000 });
    await page.getByTestId(`${fan}-state`).filter({ hasText: /^On/ }).waitFor({ timeout: 15_000 });
    await page.getByTestId(`${fan}-pending`).waitFor({ state: 'hidden' });
    const hold = (await api('viewer', 'GET', '/api/actuators')).json.actuators
      .find((a: { device: string }) => a.device === 'shed-2-fan')
      .holders.find((h: { kind: string }) => h.kind === 'operator');
    // An hour, as chosen (not the default half hour).
    expect(hold.until - hold.since).toBeGreaterThan(55 * 60_000);
  }, 60_000);

  it('150 % is refused on the page before anything is sent; manual mode asks for how long and says when the rules take it back', async () => {
    const page = await openAs('operator', 'desk', 'zh', '#/site/huyang/zone/shed-3');
    const shutter = 'actuator-shed-3-shutter';
    await page.getByTestId(`${shutter}-value`).fill('150');
    await page.getByTestId(`${shutter}-set`).click();
    await page.getByTestId(`${shutter}-input-error`).filter({ hasText: '请输入 0 到 100 之间的整数（%）。' }).waitFor();
    expect(await page.getByTestId(`${shutter}-panel`).isVisible()).toBe(false);
    const sent = (await api('viewer', 'GET', '/api/commands?device=shed-3-shutter')).json.commands as { command: { value?: number } }[];
    expect(sent.filter((c) => c.command.value === 150)).toEqual([]);
    await page.getByTestId(`${shutter}-mode-toggle`).click();
    await page
      .getByTestId(`${shutter}-note`)
      .filter({ hasText: /^规则将在 \d\d:\d\d UTC\+8 收回控制。$/ })
      .waitFor();
    await page.getByTestId(`${shutter}-manual-for`).selectOption('240');
    await shot(page, 'desk-manual-confirm-zh', false);
    await page.getByTestId(`${shutter}-mode-confirm`).click();
    await page.getByTestId(`${shutter}-mode`).filter({ hasText: '手动' }).waitFor();
    const info = (await api('viewer', 'GET', '/api/actuators')).json.actuators.find((a: { device: string }) => a.device === 'shed-3-shutter');
    expect(info.mode).toBe('manual');
    expect(info.manualUntil - Date.now()).toBeGreaterThan(3.5 * H);
    await page.getByTestId(`${shutter}-mode-toggle`).click();
    await page.getByTestId(`${shutter}-mode`).filter({ hasText: '自动' }).waitFor();
    await page.context().close();
  }, 60_000);
});

describe('charts', () => {
  it('rain as hourly bar sums with a running total and the hourly thresholds; a silence is a gap; a custom range', async () => {
    const page = await openAs('viewer', 'desk', 'en', '#/history/rain-1-gauge/rain_mm?range=24h');
    const chart = page.getByTestId('history-chart');
    await chart.locator('canvas').waitFor();
    await expect(chart.getAttribute('data-kind')).resolves.toBe('increment');
    await expect(chart.getAttribute('data-thresholds')).resolves.toBe('20 30 40 50');
    // The storm's hours: a bar is an hour's sum (12 reports of 3.4 mm), far above any one report.
    const res = (await api('viewer', 'GET', '/api/readings?device=rain-1-gauge&metric=rain_mm&from=-6h&to=now&every=1h')).json;
    expect(Math.max(...res.series[0].buckets.map((b: { sum: number }) => b.sum))).toBeGreaterThan(40);
    await expect(page.locator('.u-legend').textContent()).resolves.toMatch(/per 1 hr.*running total/);
    await shot(page, 'desk-history-rain-storm-en', false);
    await go(page, '#/history/pipe-05-level/water_level?range=24h');
    await page.locator('[data-testid="history-chart"][data-kind="level"] canvas').waitFor();
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-testid="history-chart"]')?.dataset.gaps) >= 1);
    // Pipe 05's own grades (a DN800 sewer 3 m deep): its design depth, full, 1 m under the street.
    await expect(chart.getAttribute('data-thresholds')).resolves.toBe('0.56 0.8 2');
    await shot(page, 'desk-history-level-en', false);
    // A custom range in the site's zone.
    const from = new Date(Date.now() + 8 * H - 20 * H).toISOString().slice(0, 13).replace('T', ' ') + ':00';
    const to = new Date(Date.now() + 8 * H - 12 * H).toISOString().slice(0, 13).replace('T', ' ') + ':00';
    await page.getByTestId('range-from').fill(from);
    await page.getByTestId('range-to').fill(to);
    await page.getByTestId('range-apply').click();
    await page.getByTestId('zoom-reset').waitFor();
    expect(new URL(page.url()).hash).toMatch(/from=\d+&to=\d+/);
    await page.getByTestId('range-from').fill('nonsense');
    await page.getByTestId('range-apply').click();
    await page.getByTestId('range-error').filter({ hasText: 'Choose a start before the end.' }).waitFor();
    await page.context().close();
  }, 60_000);
});

describe('the heat-stress badge and the site agree', () => {
  it('a THI badge is coloured only while its shed has an active heat-stress alert', async () => {
    const page = await openAs('viewer', 'desk', 'en');
    await settled(page);
    const badges = await page.$$eval('[data-bind="thi"]', (els) =>
      els.map((e) => ({ band: (e as HTMLElement).dataset.band, alert: (e as HTMLElement).dataset.alert })),
    );
    expect(badges.length).toBe(4);
    for (const b of badges) expect(Boolean(b.band)).toBe(b.alert === 'active');
    const status = await page.getByTestId('site-huyang-status').textContent();
    if (badges.every((b) => !b.band)) expect(status).toMatch(/No active alerts|Info|Warning|Critical/);
    else expect(status).not.toMatch(/No active alerts/);
    await page.context().close();
  }, 60_000);
});
