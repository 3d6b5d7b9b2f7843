import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { closed, connectDevice } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { DEMO_CONFIG, startTestService } from '../helpers/service.js';
import { go, launchChromium, logIn, seeText, shot } from './browser.js';

/**
 * Ear tags end to end: the whole service on the demo farm (its 1,160-sheep register), shed-1's gate reader
 * as a real MQTT client publishing tag reads, the API, and the animals page and shed cards in headless
 * Chromium, in English and Chinese. Screenshots: test-artifacts/dashboard/animals-*.png.
 */
const config = loadFarmConfig(DEMO_CONFIG);
const shed1 = config.animals.register.filter((a) => a.zone === 'shed-1').map((a) => a.tag);
const GATE = { id: 'shed-1-gate', secret: 'dev-only-shed-1-gate', topic: 'farm/huyang/shed-1/shed-1-gate/tags' };
const STRAY = '999000000000042';

let svc: Awaited<ReturnType<typeof startTestService>>;
let gate: MqttClient;
let browser: Browser;
let base: string;
let token = '';
let page: Page;

async function api(path: string, init: RequestInit = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

/** One reader message, QoS 1: resolves on the PUBACK (the reads are then durable). */
function publish(payload: unknown, topic = GATE.topic): Promise<void> {
  return gate.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 }).then(() => undefined);
}

async function shedHead(): Promise<{ headCount: number; animalsOut: number }> {
  const site = (await api('/api/sites/huyang')).json;
  return site.zones.find((z: any) => z.id === 'shed-1');
}

beforeAll(async () => {
  browser = await launchChromium();
  svc = await startTestService({ config });
  base = `http://127.0.0.1:${svc.httpPort}`;
  const login = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'dev-only-admin' }),
  });
  token = ((await login.json()) as { token: string }).token;
  gate = await connectDevice(svc.mqttPort, GATE.id, GATE.secret);
  page = await logIn(browser, base, 'ops', 'dev-only-operator');
}, 60_000);

afterAll(async () => {
  gate?.end(true);
  await browser?.close();
  await svc?.cleanup();
});

describe('ear tags through the whole service', () => {
  it('counts the flock into shed-1 from its gate reader, live on the shed card and in the site API', async () => {
    await go(page, '#/site/huyang');
    await seeText(page, 'heads-shed-1', '0 / 320');
    const now = Date.now() - 10 * 60_000;
    for (let i = 0; i < shed1.length; i += 40) await publish({ ts: now + i * 1000, tags: shed1.slice(i, i + 40), direction: 'in' });
    expect(await shedHead()).toMatchObject({ headCount: 320, animalsOut: 0, attributes: { headCount: 320 } });
    await seeText(page, 'heads-shed-1', '320 / 320');
    await publish({ ts: now + 400_000, tags: shed1.slice(0, 5), direction: 'out' });
    await seeText(page, 'heads-shed-1', '315 / 320');
    await seeText(page, 'heads-shed-1', '5 out');
    expect(await shedHead()).toMatchObject({ headCount: 315, animalsOut: 5 });
    await go(page, '#/');
    await seeText(page, 'heads-shed-1', '315 / 320');
    await shot(page, 'animals-overview-heads');
  });

  it('keeps and lists a tag the register does not know, and counts a redelivered read once', async () => {
    const read = { ts: Date.now() - 60_000, tags: [STRAY], direction: 'in' };
    await publish(read);
    await publish(read); // the same read again, as after a lost PUBACK
    const unknown = (await api('/api/animals?show=unknown')).json;
    expect(unknown.animals).toEqual([expect.objectContaining({ tag: STRAY, known: false, location: 'in', zone: 'shed-1' })]);
    expect((await api(`/api/animals/${STRAY}`)).json.reads).toHaveLength(1);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/farm_tag_reads_total\{outcome="duplicate"\} 1\b/);
    expect((await shedHead()).headCount).toBe(316);
  });

  it("rejects malformed reads with the readings' reasons, and disconnects a reader publishing anything but its tags", async () => {
    await publish('{"tags": [');
    await publish({ tags: ['12345'], direction: 'in' });
    await publish({ tags: [shed1[10]] }); // a gate reader must say in or out
    await waitFor(async () => ((await api('/api/rejects')).json.rejects.length >= 3 ? true : undefined), 'three rejects', 5000);
    const { json } = await api('/api/rejects');
    expect(json.rejects.slice(0, 3).map((r: any) => r.reason)).toEqual(['schema', 'schema', 'malformed_json']);
    expect(json.rejects[1].detail).toMatch(/tags\[0\]: "12345" is neither an FDX-B number/);
    expect(json.rejects[0].detail).toMatch(/gate reader reports "direction"/);
    gate.publish('farm/huyang/shed-1/shed-1-gate/telemetry', JSON.stringify({ metrics: { temperature: 20 } }), { qos: 1 });
    await closed(gate);
    await waitFor(async () => ((await api('/api/rejects')).json.rejects[0]?.reason === 'unauthorised_topic' ? true : undefined), 'the refusal counted', 5000);
    gate = await connectDevice(svc.mqttPort, GATE.id, GATE.secret);
  });

  it('imports animals from CSV (admin) and answers each rejected line with its reason', async () => {
    const csv = `tag,group,born,sex,zone\n156000009000001,rams,2024-05-01,m,shed-2\n156000009000002,rams,2024-05-01,x,shed-2\n`;
    const { status, json } = await api('/api/animals/import', { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } });
    expect(status).toBe(200);
    expect(json).toMatchObject({ added: 1, rejected: [{ line: 3, reason: expect.stringContaining('sex') }] });
    expect((await api('/api/animals/156000009000001')).json.animal).toMatchObject({ known: true, group: 'rams', home: 'shed-2', location: 'unplaced' });
  });

  it('finds an animal on the animals page by tag and shows its timeline of reads and moves, in English and Chinese', async () => {
    const tag = shed1[2];
    await go(page, '#/animals');
    await page.getByTestId('animals-table').waitFor();
    await page.getByTestId('animal-q').fill(tag);
    await page.getByTestId('animal-search-button').click();
    await seeText(page, 'animals-total', /^1 found/);
    expect(await page.getByTestId('animal-row').getAttribute('data-tag')).toBe(tag);
    await seeText(page, 'animal-where', 'out of Shed 1 (pasture)');
    await shot(page, 'animals-search-en');
    await page.getByTestId('animal-link').click();
    await seeText(page, 'animal-tag', tag);
    await page.getByTestId('animal-moves').locator('li').nth(1).waitFor();
    // Times at the farm (Asia/Shanghai) whatever the reader's own clock, each saying its zone.
    expect(await page.getByTestId('animal-moves').locator('li').allTextContents()).toEqual([
      expect.stringMatching(/UTC\+8 out of Shed 1/),
      expect.stringMatching(/UTC\+8 into Shed 1/),
    ]);
    expect(await page.getByTestId('animal-reads').locator('tbody tr').count()).toBe(2);
    expect(await page.getByTestId('animal-reads').locator('tbody tr td:first-child').allTextContents()).toEqual([
      expect.stringMatching(/ UTC\+8$/),
      expect.stringMatching(/ UTC\+8$/),
    ]);
    await expect(page.getByTestId('animal-facts').textContent()).resolves.toMatch(/UTC\+8 · /);
    await shot(page, 'animals-timeline-en');

    // By zone and group, and the missing filter on a fresh farm (nobody missing yet).
    await go(page, '#/animals');
    await page.getByTestId('animal-zone').selectOption('shed-2');
    await page.getByTestId('animal-group').fill('rams');
    await page.getByTestId('animal-search-button').click();
    await page.locator('[data-testid="animal-row"][data-tag="156000009000001"]').waitFor();
    const groups = await page.getByTestId('animal-row').evaluateAll((rows) => rows.map((r) => r.children[1].textContent));
    expect(new Set(groups)).toEqual(new Set(['rams']));

    await page.getByTestId('lang-switch').click();
    await go(page, `#/animals/${tag}`);
    await seeText(page, 'animal-facts', '所属羊舍');
    expect(await page.getByTestId('animal-moves').locator('li').first().textContent()).toMatch(/UTC\+8 离开/);
    await shot(page, 'animals-timeline-zh');
    await go(page, '#/animals?show=unknown');
    await page.locator(`[data-testid="animal-row"][data-tag="${STRAY}"]`).waitFor();
    await seeText(page, 'unknown-chip', '未登记');
    await shot(page, 'animals-unknown-zh');
    await go(page, '#/site/huyang');
    await seeText(page, 'heads-shed-1', '存栏');
    await shot(page, 'animals-shed-heads-zh');
    await page.getByTestId('lang-switch').click();
  });
});
