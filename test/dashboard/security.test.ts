import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildTestDashboard, PASSWORDS, testFarmConfig, type TestDashboard, type TestRole } from './fixtures.js';

/**
 * What the API refuses, by role, and that a refused request changes nothing; user administration and what it
 * does to sessions; that no answer ever carries a password, a password hash or a device secret.
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

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const GOOD_RULE = { id: 'hot-shed', scope: { kind: 'shed' }, when: { metric: 'temperature', above: 30 }, actions: [{ alert: { severity: 'warning' } }] };

async function as(t: TestDashboard, role: TestRole | undefined, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) {
  return t.dashboard.app.inject({ method, url, payload: payload as object, headers: role ? await t.auth(role) : {} });
}

describe('a viewer', () => {
  it('cannot command actuators, switch their mode, acknowledge alerts, edit or dry-run rules, or see users; nothing changes', async () => {
    const t = await dashboard();
    const alert = t.rules.raise({ site: 'huyang', zone: 'shed-1', severity: 'warning', message: 'Ammonia 31 ppm' });
    const refused = [
      ['POST', '/api/actuators/shed-1-fan/command', { action: 'on' }],
      ['POST', '/api/actuators/shed-1-fan/mode', { mode: 'manual' }],
      ['POST', `/api/alerts/${alert.id}/ack`, {}],
      ['PUT', '/api/rules', [GOOD_RULE]],
      ['POST', '/api/rules/dry-run', { rule: GOOD_RULE }],
      ['GET', '/api/rejects', undefined],
      ['GET', '/api/users', undefined],
      ['PUT', '/api/users/vera', { role: 'admin' }],
      ['DELETE', '/api/users/otto', undefined],
    ] as const;
    for (const [method, url, body] of refused) {
      const res = await as(t, 'viewer', method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error).toBe('FORBIDDEN');
    }
    expect(t.rules.calls).toEqual([]);
    expect(t.rules.activeAlerts()[0].state).toBe('raised');
    const fan = t.rules.actuators().find((a) => a.device === 'shed-1-fan')!;
    expect(fan.mode).toBe('auto');
    expect(fan.pending).toBeUndefined();
    expect((await as(t, 'viewer', 'GET', '/api/me')).json().role).toBe('viewer');
  });
});

describe('an operator', () => {
  it('cannot replace rules or add, change or remove users; nothing changes', async () => {
    const t = await dashboard();
    const before = (await as(t, 'admin', 'GET', '/api/rules')).json();
    for (const [method, url, body] of [
      ['PUT', '/api/rules', [GOOD_RULE]],
      ['GET', '/api/users', undefined],
      ['PUT', '/api/users/otto', { role: 'admin' }],
      ['PUT', '/api/users/mallory', { role: 'admin', password: 'mallory-password' }],
      ['DELETE', '/api/users/ada', undefined],
    ] as const) {
      const res = await as(t, 'operator', method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().message).toMatch(/needs the admin role/);
    }
    expect((await as(t, 'admin', 'GET', '/api/rules')).json()).toEqual(before);
    expect((await as(t, 'admin', 'GET', '/api/users')).json().users.map((u: { name: string; role: string }) => `${u.name}:${u.role}`)).toEqual([
      'ada:admin',
      'otto:operator',
      'vera:viewer',
    ]);
    expect(
      (await t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'mallory', password: 'mallory-password' } })).statusCode,
    ).toBe(401);
  });

  it('can acknowledge, command and switch modes (what the role is for)', async () => {
    const t = await dashboard();
    const alert = t.rules.raise({ site: 'huyang', zone: 'shed-1', severity: 'warning', message: 'Ammonia 31 ppm' });
    expect((await as(t, 'operator', 'POST', `/api/alerts/${alert.id}/ack`, {})).statusCode).toBe(200);
    expect((await as(t, 'operator', 'POST', '/api/actuators/shed-1-fan/mode', { mode: 'manual' })).statusCode).toBe(200);
    expect((await as(t, 'operator', 'POST', '/api/actuators/shed-1-fan/command', { action: 'off' })).statusCode).toBe(202);
  });
});

describe('user administration', () => {
  it('demoting a user ends their sessions at once; their next request needs a new login with the new role', async () => {
    const t = await dashboard();
    const otto = await t.auth('operator');
    expect((await t.dashboard.app.inject({ url: '/api/me', headers: otto })).statusCode).toBe(200);
    const res = await as(t, 'admin', 'PUT', '/api/users/otto', { role: 'viewer' });
    expect(res.json()).toEqual({ user: { name: 'otto', role: 'viewer', source: 'api' }, created: false });
    expect((await t.dashboard.app.inject({ url: '/api/me', headers: otto })).statusCode).toBe(401);
    const again = await t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'otto', password: PASSWORDS.operator } });
    expect(again.json().role).toBe('viewer');
    const token = again.json().token as string;
    expect(
      (
        await t.dashboard.app.inject({
          method: 'POST',
          url: '/api/actuators/shed-1-fan/command',
          payload: { action: 'on' },
          headers: { authorization: `Bearer ${token}` },
        })
      ).statusCode,
    ).toBe(403);
  });

  it('a new password replaces the old one; a new user needs a password of 10 characters or more', async () => {
    const t = await dashboard();
    expect((await as(t, 'admin', 'PUT', '/api/users/vera', { role: 'viewer', password: 'a-much-longer-password' })).statusCode).toBe(200);
    const login = (password: string) => t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'vera', password } });
    expect((await login(PASSWORDS.viewer)).statusCode).toBe(401);
    expect((await login('a-much-longer-password')).statusCode).toBe(200);
    const noPassword = await as(t, 'admin', 'PUT', '/api/users/newbie', { role: 'viewer' });
    expect(noPassword.statusCode).toBe(400);
    expect(noPassword.json().message).toMatch(/needs a password/);
    const short = await as(t, 'admin', 'PUT', '/api/users/newbie', { role: 'viewer', password: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.json().problems[0].path).toBe('body.password');
  });

  it('an admin cannot remove or demote themselves, so the farm keeps an admin', async () => {
    const t = await dashboard();
    const remove = await as(t, 'admin', 'DELETE', '/api/users/ada');
    expect(remove.statusCode).toBe(409);
    expect(remove.json().message).toMatch(/another admin/);
    expect((await as(t, 'admin', 'PUT', '/api/users/ada', { role: 'viewer' })).statusCode).toBe(409);
    expect((await as(t, 'admin', 'DELETE', '/api/users/nobody')).statusCode).toBe(404);
  });

  it('changes survive a restart through the users file, which holds scrypt hashes and never a password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'farm-users-'));
    dirs.push(dir);
    const usersFile = join(dir, 'users.json');
    const first = await dashboard({ usersFile });
    await as(first, 'admin', 'PUT', '/api/users/nina', { role: 'operator', password: 'nina-night-shift' });
    await as(first, 'admin', 'DELETE', '/api/users/vera');
    const text = readFileSync(usersFile, 'utf8');
    expect(text).toMatch(/"passwordHash": "scrypt\$/);
    expect(text).not.toContain('nina-night-shift');
    await first.close();

    const second = await dashboard({ usersFile });
    const login = (username: string, password: string) => second.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username, password } });
    expect((await login('nina', 'nina-night-shift')).json().role).toBe('operator');
    expect((await login('vera', PASSWORDS.viewer)).statusCode).toBe(401);
    expect((await login('otto', PASSWORDS.operator)).statusCode).toBe(200);
  });
});

describe('secrets in answers', () => {
  it('no answer of any GET route contains a device secret, a password or a password hash, whoever asks', async () => {
    const config = testFarmConfig({
      users: [
        { name: 'vera', role: 'viewer', password: PASSWORDS.viewer },
        { name: 'otto', role: 'operator', password: PASSWORDS.operator },
        { name: 'ada', role: 'admin', password: PASSWORDS.admin },
        { name: 'hashed', role: 'admin', passwordHash: 'scrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==' },
      ],
    });
    const t = await dashboard({}, { config });
    const secrets = [...Object.values(PASSWORDS), 'dev-only-secret-1', 'scrypt$', 'c2FsdHNhbHQ', 'passwordHash', 'secretHash'];
    const urls = [
      '/api/sites',
      '/api/sites/huyang',
      '/api/sites/city/drainage',
      '/api/latest',
      '/api/actuators',
      '/api/alerts?state=all',
      '/api/commands',
      '/api/rules',
      '/api/rejects',
      '/api/users',
      '/api/me',
      '/api/docs/json',
      '/health',
      '/metrics',
    ];
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      for (const url of urls) {
        const res = await as(t, role, 'GET', url);
        expect([200, 403], `${role} ${url}`).toContain(res.statusCode);
        for (const s of secrets) expect(res.body, `${role} ${url} contains ${s}`).not.toContain(s);
      }
    }
  });
});
