import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestDashboard, PASSWORDS, type TestDashboard } from './fixtures.js';

/**
 * Share links over the API: what the holder of a link sees (one zone, the shared metrics, 7 days hourly) and
 * nothing else; revoked, expired and unknown tokens; tokens stored as hashes; last use; the rate limit.
 * The share page itself is tested in Chromium (e2e-share.test.ts).
 */
const open: TestDashboard[] = [];
async function dashboard(...args: Parameters<typeof buildTestDashboard>): Promise<TestDashboard> {
  const t = await buildTestDashboard(...args);
  open.push(t);
  return t;
}
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

const HOUR = 3_600_000;

/** A week of readings every 20 minutes in the shed and the field, ending at `end`. */
async function seedWeek(t: TestDashboard, end: number): Promise<void> {
  const readings = [];
  for (let ts = end - 7 * 24 * HOUR; ts <= end; ts += 20 * 60_000)
    readings.push(
      {
        site: 'huyang',
        zone: 'field-1',
        kind: 'field' as const,
        device: 'field-1-soil',
        ts,
        metrics: { soil_moisture: 30 + ((ts / HOUR) % 5), soil_temperature: 12 },
      },
      { site: 'huyang', zone: 'shed-1', kind: 'shed' as const, device: 'shed-1-env', ts, metrics: { temperature: 20, humidity: 60, nh3: 9 } },
    );
  await t.store.writeReadings(readings);
}

async function share(t: TestDashboard, body: object) {
  const res = await t.dashboard.app.inject({ method: 'POST', url: '/api/shares', payload: body, headers: await t.auth('operator') });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; token: string; url: string }>();
}

describe('a share link', () => {
  it('shows its holder one zone without a login: name, the shared metrics now, and 7 days hour by hour', async () => {
    const t = await dashboard();
    const now = Date.now();
    await seedWeek(t, now);
    const link = await share(t, { site: 'huyang', zone: 'field-1', metrics: ['soil_moisture'], expiresInDays: 90 });
    expect(link.url).toBe(`http://localhost:80/share/${link.token}`);

    const res = await t.dashboard.app.inject({ url: `/api/share/${link.token}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body.site).toEqual({ id: 'huyang', name: 'Huyang lake-sheep farm', timeZone: 'UTC' });
    expect(body.zone).toEqual({ id: 'field-1', name: 'North field', kind: 'field' });
    expect(body.values).toEqual([{ device: 'field-1-soil', metric: 'soil_moisture', unit: '% vol', value: expect.any(Number), ts: expect.any(Number) }]);
    expect(body.history).toHaveLength(1);
    const { buckets } = body.history[0];
    expect(body.everyMs).toBe(HOUR);
    expect(body.to - body.from).toBe(7 * 24 * HOUR);
    expect(buckets.length).toBeGreaterThanOrEqual(7 * 24 - 1);
    expect(buckets.every((b: { ts: number }) => b.ts % HOUR === 0)).toBe(true);
    // Nothing of the other metric, nor of any other zone.
    expect(res.body).not.toMatch(/soil_temperature|shed-1|nh3|city|pipe/);
    // The page answers too.
    const page = await t.dashboard.app.inject({ url: `/share/${link.token}` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['x-robots-tag']).toBe('noindex');
  });

  it('without metrics shares every metric of the zone; a metric the zone does not measure is refused', async () => {
    const t = await dashboard();
    await seedWeek(t, Date.now());
    const link = await share(t, { site: 'huyang', zone: 'field-1' });
    const body = (await t.dashboard.app.inject({ url: `/api/share/${link.token}` })).json();
    expect(body.values.map((v: { metric: string }) => v.metric).sort()).toEqual(['soil_moisture', 'soil_temperature']);
    const bad = await t.dashboard.app.inject({
      method: 'POST',
      url: '/api/shares',
      payload: { site: 'huyang', zone: 'field-1', metrics: ['nh3'] },
      headers: await t.auth('operator'),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().problems[0]).toEqual({ path: 'body.metrics', message: 'nh3 is not measured in this zone' });
    const ghost = await t.dashboard.app.inject({
      method: 'POST',
      url: '/api/shares',
      payload: { site: 'huyang', zone: 'pipe-a' },
      headers: await t.auth('operator'),
    });
    expect(ghost.statusCode).toBe(404);
  });

  it('answers 404 once revoked, the same as an unknown token; the list says who revoked it', async () => {
    const t = await dashboard();
    const link = await share(t, { site: 'huyang', zone: 'shed-1' });
    expect((await t.dashboard.app.inject({ url: `/api/share/${link.token}` })).statusCode).toBe(200);
    const revoked = await t.dashboard.app.inject({ method: 'DELETE', url: `/api/shares/${link.id}`, headers: await t.auth('operator') });
    expect(revoked.json()).toMatchObject({ state: 'revoked', revokedBy: 'otto', revokedAt: expect.any(Number) });

    const afterRevoke = await t.dashboard.app.inject({ url: `/api/share/${link.token}` });
    const unknown = await t.dashboard.app.inject({ url: `/api/share/${'x'.repeat(43)}` });
    expect(afterRevoke.statusCode).toBe(404);
    expect(afterRevoke.body).toBe(unknown.body);
    expect(afterRevoke.json().message).toMatch(/expired or was revoked: ask whoever shared it for a new one/);
    const page = await t.dashboard.app.inject({ url: `/share/${link.token}` });
    expect(page.statusCode).toBe(404);
    expect(page.body).toMatch(/此链接已过期或已被撤销/);
    expect(page.body).toMatch(/This link has expired or was revoked/);
    const list = (await t.dashboard.app.inject({ url: '/api/shares', headers: await t.auth('operator') })).json();
    expect(list.shares[0]).toMatchObject({ id: link.id, state: 'revoked', revokedBy: 'otto' });
  });

  it('answers 404 once it has expired', async () => {
    const t = await dashboard({}, { fakeClock: true });
    const link = await share(t, { site: 'huyang', zone: 'shed-1', expiresInDays: 2 });
    t.clock.advance(2 * 24 * HOUR - 1000);
    expect((await t.dashboard.app.inject({ url: `/api/share/${link.token}` })).statusCode).toBe(200);
    t.clock.advance(1000);
    expect((await t.dashboard.app.inject({ url: `/api/share/${link.token}` })).statusCode).toBe(404);
    expect((await t.dashboard.app.inject({ url: `/share/${link.token}` })).statusCode).toBe(404);
    // Two days on, the operator's session (1 h) has ended too: log in again to see the list.
    const login = await t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'otto', password: PASSWORDS.operator } });
    const list = (await t.dashboard.app.inject({ url: '/api/shares', headers: { authorization: `Bearer ${login.json().token}` } })).json();
    expect(list.shares[0]).toMatchObject({ state: 'expired', expiresAt: expect.any(Number) });
  });

  it('is stored as a hash of a random token, and its last use is listed', async () => {
    const t = await dashboard();
    const [a, b] = [await share(t, { site: 'huyang', zone: 'shed-1' }), await share(t, { site: 'huyang', zone: 'shed-1' })];
    expect(a.token).not.toBe(b.token);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 random bits
    const before = (await t.dashboard.app.inject({ url: '/api/shares', headers: await t.auth('operator') })).json();
    expect(before.shares.every((s: { lastUsedAt?: number }) => s.lastUsedAt === undefined)).toBe(true);
    expect(JSON.stringify(before)).not.toContain(a.token);
    await t.dashboard.app.inject({ url: `/api/share/${a.token}` });
    await expect
      .poll(async () =>
        (await t.dashboard.app.inject({ url: '/api/shares', headers: await t.auth('operator') })).json().shares.find((s: { id: string }) => s.id === a.id),
      )
      .toMatchObject({ lastUsedAt: expect.any(Number), uses: 1 });
    const db = readFileSync(join(t.dataDir, 'access.db'));
    expect(db.includes(Buffer.from(a.token))).toBe(false);
    const wal = readWal(t);
    expect(Buffer.concat([db, wal]).includes(Buffer.from(createHash('sha256').update(a.token).digest('hex')))).toBe(true);
  });

  it('is not a login: the rest of the API and the live connection refuse it', async () => {
    const t = await dashboard();
    const link = await share(t, { site: 'huyang', zone: 'shed-1' });
    for (const url of ['/api/sites', '/api/readings?metric=nh3', '/api/alerts']) {
      expect((await t.dashboard.app.inject({ url, headers: { authorization: `Bearer ${link.token}` } })).statusCode, url).toBe(401);
      expect((await t.dashboard.app.inject({ url, cookies: { farm_session: link.token } })).statusCode, url).toBe(401);
    }
    const { port } = await t.dashboard.start();
    const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, auth: { token: link.token } });
    await expect(new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)))).rejects.toThrow(
      'UNAUTHENTICATED',
    );
    socket.close();
  });

  it('is rate-limited per client address: the 6th request within the minute (limit 5) answers 429 with Retry-After', async () => {
    const t = await dashboard({ shareRateLimit: { max: 5, timeWindowMs: 60_000 } });
    const link = await share(t, { site: 'huyang', zone: 'shed-1' });
    for (let i = 0; i < 5; i++) expect((await t.dashboard.app.inject({ url: `/api/share/${link.token}` })).statusCode).toBe(200);
    const limited = await t.dashboard.app.inject({ url: `/api/share/${link.token}` });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/try again in \d+ s/) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Guessing tokens counts the same; another address is not affected.
    expect((await t.dashboard.app.inject({ url: '/api/share/guess' })).statusCode).toBe(429);
    expect((await t.dashboard.app.inject({ url: `/api/share/${link.token}`, remoteAddress: '10.0.0.9' })).statusCode).toBe(200);
  });

  it('creating and revoking are in the audit log', async () => {
    const t = await dashboard();
    const link = await share(t, { site: 'huyang', zone: 'shed-1', metrics: ['nh3'] });
    await t.dashboard.app.inject({ method: 'DELETE', url: `/api/shares/${link.id}`, headers: await t.auth('operator') });
    const { entries } = (await t.dashboard.app.inject({ url: '/api/audit?action=share.create', headers: await t.auth('admin') })).json();
    expect(entries).toEqual([
      expect.objectContaining({
        actor: 'otto',
        action: 'share.create',
        site: 'huyang',
        target: link.id,
        outcome: 'ok',
        status: 201,
        detail: expect.objectContaining({ zone: 'shed-1', metrics: ['nh3'] }),
      }),
    ]);
    const revoked = (await t.dashboard.app.inject({ url: '/api/audit?action=share.revoke', headers: await t.auth('admin') })).json();
    expect(revoked.entries).toEqual([expect.objectContaining({ actor: 'otto', site: 'huyang', target: link.id, outcome: 'ok' })]);
    expect(JSON.stringify(entries)).not.toContain(link.token);
  });
});

function readWal(t: TestDashboard): Buffer {
  try {
    return readFileSync(join(t.dataDir, 'access.db-wal'));
  } catch {
    return Buffer.alloc(0);
  }
}
