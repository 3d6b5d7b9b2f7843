import { afterEach, describe, expect, it } from 'vitest';
import { createDashboard } from '../../dashboard/server.js';
import { buildTestDashboard, PASSWORDS, testFarmConfig, type TestDashboard } from './fixtures.js';

/**
 * The audit log: every change a person makes (SPEC "Access control") with who, when, from which address, what and
 * the outcome, refused attempts included; kept in DATA_DIR/access.db across a restart; GET /api/audit for admins,
 * site-limited like everything else.
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

interface Entry {
  ts: number;
  actor: string;
  address?: string;
  action: string;
  site?: string;
  target?: string;
  outcome: string;
  status?: number;
  code?: string;
  detail?: Record<string, unknown>;
}

async function audit(t: TestDashboard, query = ''): Promise<Entry[]> {
  const res = await t.dashboard.app.inject({ url: `/api/audit?${query}`, headers: await t.auth('admin') });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().entries;
}

const rule = { id: 'hot-shed', scope: { kind: 'shed' }, when: { metric: 'temperature', above: 30 }, actions: [{ alert: { severity: 'warning' } }] };

describe('the audit log', () => {
  it('has an entry for each change a person makes: who, when, from where, what, and the outcome', async () => {
    const t = await dashboard();
    const started = Date.now();
    const inject = async (
      role: 'viewer' | 'operator' | 'admin',
      method: 'POST' | 'PUT' | 'DELETE',
      url: string,
      payload?: unknown,
      remoteAddress = '192.168.1.20',
    ) => t.dashboard.app.inject({ method, url, payload: payload as object, headers: await t.auth(role), remoteAddress });
    // Logins: a good one, a wrong password, a name nobody has (never stored as typed), from a shed PC.
    await t.dashboard.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { username: 'otto', password: PASSWORDS.operator },
      remoteAddress: '192.168.1.20',
    });
    await t.dashboard.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { username: 'otto', password: 'wrong-password' },
      remoteAddress: '192.168.1.21',
    });
    await t.dashboard.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { username: 'my-secret-password', password: 'x' },
      remoteAddress: '192.168.1.21',
    });
    const alert = t.rules.raise({ site: 'huyang', zone: 'shed-1', device: 'shed-1-env', severity: 'warning', message: 'Ammonia 31 ppm' });
    await inject('operator', 'POST', `/api/alerts/${alert.id}/ack`);
    const command = (await inject('operator', 'POST', '/api/actuators/shed-1-fan/command', { action: 'set', value: 60 })).json().command;
    await inject('operator', 'POST', '/api/actuators/shed-1-spray/mode', { mode: 'manual', forMinutes: 30 });
    await inject('viewer', 'POST', '/api/actuators/shed-1-fan/command', { action: 'off' }); // refused: a viewer
    await inject('admin', 'PUT', '/api/rules', [rule]);
    await inject('admin', 'PUT', '/api/users/nina', { role: 'operator', password: 'nina-night-shift', sites: ['city'] });
    await inject('admin', 'DELETE', '/api/users/nina');
    const display = (await inject('admin', 'POST', '/api/displays', { name: 'hall screen' })).json();
    await t.dashboard.app.inject({ url: `/display/${display.token}`, remoteAddress: '192.168.1.50' });
    await inject('admin', 'DELETE', `/api/displays/${display.id}`);
    await inject('viewer', 'POST', '/api/logout');

    const entries = await audit(t, 'limit=100');
    const find = (action: string, extra: Partial<Entry> = {}) =>
      entries.find((e) => e.action === action && Object.entries(extra).every(([k, v]) => JSON.stringify(e[k as keyof Entry]) === JSON.stringify(v)));
    expect(find('login', { actor: 'otto', outcome: 'ok', address: '192.168.1.20' })).toMatchObject({ status: 200 });
    expect(find('login', { actor: 'otto', outcome: 'refused' })).toMatchObject({ address: '192.168.1.21', status: 401, code: 'INVALID_CREDENTIALS' });
    expect(find('login', { actor: '(unknown user)' })).toMatchObject({ outcome: 'refused', code: 'INVALID_CREDENTIALS' });
    expect(JSON.stringify(entries)).not.toContain('my-secret-password');
    expect(find('alert.ack')).toMatchObject({
      actor: 'otto',
      site: 'huyang',
      target: alert.id,
      outcome: 'ok',
      detail: { rule: 'test-rule', zone: 'shed-1', severity: 'warning' },
    });
    expect(find('actuator.command', { outcome: 'ok' })).toMatchObject({
      actor: 'otto',
      address: '192.168.1.20',
      site: 'huyang',
      target: 'shed-1-fan',
      status: 202,
      detail: { action: 'set', value: 60, command: command.id },
    });
    expect(find('actuator.command', { outcome: 'refused' })).toMatchObject({ actor: 'vera', target: 'shed-1-fan', status: 403, code: 'FORBIDDEN' });
    expect(find('actuator.mode')).toMatchObject({
      actor: 'otto',
      site: 'huyang',
      target: 'shed-1-spray',
      outcome: 'ok',
      detail: { mode: 'manual', until: expect.any(Number) },
    });
    expect(find('rules.replace')).toMatchObject({ actor: 'ada', outcome: 'ok', detail: { changed: ['hot-shed'], removed: ['shed-ammonia', 'pipe-fill'] } });
    expect(find('user.put')).toMatchObject({
      actor: 'ada',
      target: 'nina',
      outcome: 'ok',
      detail: { role: 'operator', sites: ['city'], passwordChanged: true, created: true },
    });
    expect(find('user.remove')).toMatchObject({ actor: 'ada', target: 'nina', outcome: 'ok' });
    expect(find('display.create')).toMatchObject({ actor: 'ada', target: display.id, outcome: 'ok', status: 201, detail: { name: 'hall screen' } });
    expect(find('display.open')).toMatchObject({ actor: 'display:hall screen', address: '192.168.1.50', outcome: 'ok', status: 303 });
    expect(find('display.revoke')).toMatchObject({ actor: 'ada', target: display.id, outcome: 'ok' });
    expect(find('logout')).toMatchObject({ actor: 'vera', outcome: 'ok' });
    for (const e of entries) expect(e.ts).toBeGreaterThanOrEqual(started - 1000);
    // Newest first; no password, hash or token anywhere.
    expect(entries.map((e) => e.ts)).toEqual([...entries.map((e) => e.ts)].sort((a, b) => b - a));
    expect(JSON.stringify(entries)).not.toMatch(/nina-night-shift|scrypt\$|operator-password/);
    expect(JSON.stringify(entries)).not.toContain(display.token);
  });

  it('records a login refused by the failed-login limit', async () => {
    const t = await dashboard({ loginRateLimit: { max: 1, timeWindowMs: 60_000 } });
    await t.auth('admin'); // before the limit is reached from this address
    for (let i = 0; i < 2; i++) await t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'otto', password: 'wrong-password' } });
    const limited = (await audit(t, 'action=login')).filter((e) => e.code === 'TOO_MANY_ATTEMPTS');
    expect(limited).toEqual([expect.objectContaining({ actor: 'otto', outcome: 'refused', status: 429 })]);
  });

  it('filters by user, action, period and limit', async () => {
    const t = await dashboard();
    await t.auth('operator');
    await t.auth('viewer');
    expect((await audit(t, 'user=otto')).map((e) => e.actor)).toEqual(['otto']);
    expect((await audit(t, 'action=login')).map((e) => e.actor).sort()).toEqual(['ada', 'otto', 'vera']);
    expect(await audit(t, 'action=login&limit=1')).toHaveLength(1);
    expect(await audit(t, `to=${Date.now() - 3_600_000}`)).toEqual([]);
    const viewer = await t.dashboard.app.inject({ url: '/api/audit', headers: await t.auth('operator') });
    expect(viewer.statusCode).toBe(403);
  });

  it('is kept in DATA_DIR (access.db) and survives a restart of the dashboard', async () => {
    const t = await dashboard();
    await t.dashboard.app.inject({ method: 'POST', url: '/api/actuators/shed-1-fan/command', payload: { action: 'on' }, headers: await t.auth('operator') });
    const admin = await t.auth('admin');
    await t.dashboard.stop();
    const again = createDashboard(t.deps, { port: 0, host: '127.0.0.1', sessionTtlMs: 3_600_000, metricsPublic: true, dataDir: t.dataDir });
    try {
      // The admin's session survives too (same DATA_DIR): no new login needed.
      const res = await again.app.inject({ url: '/api/audit?action=actuator.command', headers: admin });
      expect(res.json().entries).toEqual([expect.objectContaining({ actor: 'otto', target: 'shed-1-fan', outcome: 'ok' })]);
    } finally {
      await again.stop();
    }
  });

  it('shows a site-limited admin the entries of their sites and of the people they manage, nothing of other sites', async () => {
    const base = testFarmConfig();
    const config = testFarmConfig({
      users: [
        ...base.users.map((u) => ({ name: u.name, role: u.role, password: u.password })),
        { name: 'cia', role: 'admin', sites: ['city'], password: 'city-admin-password' },
        { name: 'pia', role: 'operator', sites: ['city'], password: 'pipe-operator-pw' },
      ],
    });
    const t = await dashboard({}, { config });
    const login = async (username: string, password: string) =>
      (await t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username, password } })).json().token as string;
    const pia = await login('pia', 'pipe-operator-pw');
    await t.dashboard.app.inject({ method: 'POST', url: '/api/actuators/shed-1-fan/command', payload: { action: 'on' }, headers: await t.auth('operator') });
    const alert = t.rules.raise({ site: 'city', zone: 'pipe-a', severity: 'critical', message: 'Pipe A full' });
    await t.dashboard.app.inject({ method: 'POST', url: `/api/alerts/${alert.id}/ack`, headers: { authorization: `Bearer ${pia}` } });
    // pia tries the farm's fan: refused like a device that does not exist, and filed under the farm.
    await t.dashboard.app.inject({
      method: 'POST',
      url: '/api/actuators/shed-1-fan/command',
      payload: { action: 'off' },
      headers: { authorization: `Bearer ${pia}` },
    });
    const cia = await login('cia', 'city-admin-password');
    const seen: Entry[] = (await t.dashboard.app.inject({ url: '/api/audit', headers: { authorization: `Bearer ${cia}` } })).json().entries;
    expect(seen.map((e) => `${e.actor} ${e.action} ${e.outcome}`).sort()).toEqual(['cia login ok', 'pia alert.ack ok', 'pia login ok']);
    const all = await audit(t);
    expect(all.find((e) => e.actor === 'pia' && e.action === 'actuator.command')).toMatchObject({ site: 'huyang', outcome: 'refused', code: 'NOT_FOUND' });
  });
});
