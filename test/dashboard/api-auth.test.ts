import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../core/secrets.js';
import { buildTestDashboard, PASSWORDS, testFarmConfig, type TestDashboard } from './fixtures.js';

const open: TestDashboard[] = [];
async function dashboard(...args: Parameters<typeof buildTestDashboard>): Promise<TestDashboard> {
  const t = await buildTestDashboard(...args);
  open.push(t);
  return t;
}
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

const login = (t: TestDashboard, username: string, password: string) =>
  t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username, password } });

describe('logging in and out', () => {
  it('a user with the right password gets a bearer token and an httpOnly, same-site session cookie', async () => {
    const t = await dashboard();
    const res = await login(t, 'otto', PASSWORDS.operator);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ user: 'otto', role: 'operator', token: expect.any(String) });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^farm_session=[\w-]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);

    const token = res.json().token as string;
    const byCookie = await t.dashboard.app.inject({ url: '/api/me', cookies: { farm_session: token } });
    expect(byCookie.json()).toMatchObject({ user: 'otto', role: 'operator' });
    const byBearer = await t.dashboard.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    expect(byBearer.statusCode).toBe(200);
  });

  it('a wrong password or unknown user gets the same 401 without saying which', async () => {
    const t = await dashboard();
    const wrong = await login(t, 'otto', 'not-the-password');
    const unknown = await login(t, 'nobody', 'not-the-password');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().error).toBe('INVALID_CREDENTIALS');
  });

  it('a login without a password is a 400 naming the missing field', async () => {
    const t = await dashboard();
    const res = await t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'otto' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('VALIDATION');
    expect(res.json().problems).toContainEqual(expect.objectContaining({ path: 'body.password' }));
  });

  it('a user whose password is stored as a scrypt hash can log in', async () => {
    const t = await dashboard(
      {},
      { config: testFarmConfig({ users: [{ name: 'hashed', role: 'admin', passwordHash: await hashSecret('correct horse battery') }] }) },
    );
    expect((await login(t, 'hashed', 'correct horse battery')).statusCode).toBe(200);
    expect((await login(t, 'hashed', 'wrong horse battery')).statusCode).toBe(401);
  });

  it('after 5 failed logins the address waits out the window, even with the right password', async () => {
    const t = await dashboard({ loginRateLimit: { max: 5, timeWindowMs: 60_000 } }, { fakeClock: true });
    for (let i = 0; i < 5; i++) expect((await login(t, 'otto', 'guess-' + i)).statusCode).toBe(401);
    const blocked = await login(t, 'otto', PASSWORDS.operator);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error).toBe('TOO_MANY_ATTEMPTS');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    t.clock.advance(60_000);
    expect((await login(t, 'otto', PASSWORDS.operator)).statusCode).toBe(200);
  });

  it('after logout the token no longer works', async () => {
    const t = await dashboard();
    const headers = await t.auth('viewer');
    const out = await t.dashboard.app.inject({ method: 'POST', url: '/api/logout', headers });
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(/farm_session=;/);
    expect((await t.dashboard.app.inject({ url: '/api/me', headers })).statusCode).toBe(401);
  });

  it('a session expires after its lifetime', async () => {
    const t = await dashboard({ sessionTtlMs: 60_000 }, { fakeClock: true });
    const headers = await t.auth('viewer');
    t.clock.advance(59_000);
    expect((await t.dashboard.app.inject({ url: '/api/me', headers })).statusCode).toBe(200);
    t.clock.advance(1_000);
    const res = await t.dashboard.app.inject({ url: '/api/me', headers });
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(/POST \/api\/login/);
  });
});

describe('what is reachable without a login', () => {
  it('health answers 200 when ok or degraded and 503 when down, without a login', async () => {
    for (const [status, code] of [
      ['ok', 200],
      ['degraded', 200],
      ['down', 503],
    ] as const) {
      const t = await dashboard({}, { health: async () => ({ status, checks: { store: status } }) });
      const res = await t.dashboard.app.inject({ url: '/health' });
      expect(res.statusCode).toBe(code);
      expect(res.json().status).toBe(status);
    }
  });

  it('metrics are public by default and admin-only when configured', async () => {
    const open = await dashboard();
    const res = await open.dashboard.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(res.body).toMatch(/farm_readings_total 3/);

    const closed = await dashboard({ metricsPublic: false });
    expect((await closed.dashboard.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await closed.dashboard.app.inject({ url: '/metrics', headers: await closed.auth('operator') })).statusCode).toBe(403);
    expect((await closed.dashboard.app.inject({ url: '/metrics', headers: await closed.auth('admin') })).statusCode).toBe(200);
  });

  it('the login page and its script are public; an unknown URL is 401 before login and 404 after', async () => {
    const t = await dashboard();
    const page = await t.dashboard.app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('/app.js');
    const script = await t.dashboard.app.inject({ url: '/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect((await t.dashboard.app.inject({ url: '/app.js', headers: { 'if-none-match': script.headers.etag as string } })).statusCode).toBe(304);
    expect((await t.dashboard.app.inject({ url: '/api/nothing-here' })).statusCode).toBe(401);
    const after = await t.dashboard.app.inject({ url: '/api/nothing-here', headers: await t.auth('viewer') });
    expect(after.statusCode).toBe(404);
    expect(after.json().error).toBe('NOT_FOUND');
  });

  it('every answer carries security headers; HSTS only over TLS', async () => {
    const t = await dashboard();
    for (const url of ['/', '/api/sites', '/health']) {
      const res = await t.dashboard.app.inject({ url });
      expect(res.headers['content-security-policy'], url).toMatch(/default-src 'self'/);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security'], url).toBeUndefined();
      expect(res.headers['content-security-policy'], url).not.toMatch(/upgrade-insecure-requests/);
    }
  });

  it('no answer contains a device secret or a password, whoever asks', async () => {
    const t = await dashboard();
    for (const role of ['viewer', 'admin'] as const) {
      for (const url of ['/api/sites', '/api/sites/huyang', '/api/actuators', '/api/me']) {
        const res = await t.dashboard.app.inject({ url, headers: await t.auth(role) });
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toMatch(/secret|scrypt\$|password/i);
      }
    }
  });
});
