import type { RouteEntry } from '../../dashboard/access/site-scope.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestDashboard, seedHistory, seedTagReads, TAGS, type TestDashboard, type TestRole } from './fixtures.js';

/**
 * Every route of the API: needs a login, enforces its role, answers a 400 naming the bad field, and does its job.
 * One table, so a new route without a row here fails the "every route is covered" test.
 */
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface RouteCase {
  method: Method;
  url: string;
  role: TestRole;
  body?: unknown;
  invalid?: { url?: string; body?: unknown; path: string };
  status?: number;
  check?: (json: any, t: TestDashboard) => void | Promise<void>;
}

const GOOD_RULE = { id: 'hot-shed', scope: { kind: 'shed' }, when: { metric: 'temperature', above: 30 }, actions: [{ alert: { severity: 'warning' } }] };

const CASES: RouteCase[] = [
  { method: 'GET', url: '/api/me', role: 'viewer', check: (j) => expect(j.user).toBe('vera') },
  { method: 'POST', url: '/api/logout', role: 'viewer', check: (j) => expect(j.ok).toBe(true) },
  {
    method: 'GET',
    url: '/api/sites',
    role: 'viewer',
    check: (j) => {
      expect(j.sites.map((s: any) => s.id)).toEqual(['huyang', 'city']);
      const env = j.sites[0].zones[0].devices[0];
      expect(env).toMatchObject({ id: 'shed-1-env', status: 'online', latest: { nh3: { value: expect.any(Number) } } });
      expect(j.sites[1].zones[0].fillLevels).toEqual([
        { name: 'yellow', above: 50 },
        { name: 'orange', above: 70 },
        { name: 'red', above: 85 },
      ]);
    },
  },
  {
    method: 'GET',
    url: '/api/sites/city',
    role: 'viewer',
    invalid: { url: '/api/sites/NOT_AN_ID', path: 'params.site' },
    check: (j) => expect(j.zones).toHaveLength(3),
  },
  {
    method: 'GET',
    url: '/api/sites/city/drainage',
    role: 'viewer',
    invalid: { url: '/api/sites/Bad!/drainage', path: 'params.site' },
    check: (j) => {
      expect(j.pipes.map((p: any) => [p.device, p.level])).toEqual([
        ['pipe-a-level', 'yellow'],
        ['pipe-b-level', 'blue'],
      ]);
      expect(j.gauges[0]).toMatchObject({ device: 'rain-1-gauge', rain1hMm: 0, rain24hMm: 0 });
      expect(j.highWater.map((p: any) => p.device)).toEqual(['pipe-a-level']);
    },
  },
  {
    method: 'GET',
    url: '/api/latest?site=city',
    role: 'viewer',
    invalid: { url: '/api/latest?colour=red', path: 'querystring' },
    check: (j) => expect(j.values.every((v: any) => v.site === 'city')).toBe(true),
  },
  {
    method: 'GET',
    url: '/api/readings?device=shed-1-env&metric=nh3&from=-24h&every=1h',
    role: 'viewer',
    invalid: { url: '/api/readings?device=shed-1-env&metric=nh3&from=last-tuesday', path: 'querystring.from' },
    check: (j) => {
      expect(j).toMatchObject({ metric: 'nh3', unit: 'ppm', everyMs: 3_600_000 });
      expect(j.series[0].buckets.length).toBeGreaterThanOrEqual(24);
      // Hour buckets of readings every 10 min: a whole hour inside the range holds 6 (the first may be cut by `from`).
      const whole = j.series[0].buckets[1];
      expect(whole).toEqual({ ts: expect.any(Number), mean: expect.any(Number), min: expect.any(Number), max: expect.any(Number), count: 6 });
      expect(whole.ts % 3_600_000).toBe(0);
      expect(whole.min).toBeLessThanOrEqual(whole.mean);
      expect(whole.mean).toBeLessThanOrEqual(whole.max);
    },
  },
  {
    method: 'GET',
    url: '/api/alerts?state=active',
    role: 'viewer',
    invalid: { url: '/api/alerts?state=open', path: 'querystring.state' },
    check: (j) => expect(j.alerts[0].severity).toBe('critical'),
  },
  { method: 'POST', url: '/api/alerts/ALERT/ack', role: 'operator', check: (j) => expect(j.alert).toMatchObject({ state: 'acknowledged', by: 'otto' }) },
  { method: 'GET', url: '/api/actuators', role: 'viewer', check: (j) => expect(j.actuators.map((a: any) => a.device)).toContain('shed-1-fan') },
  {
    method: 'POST',
    url: '/api/actuators/shed-1-fan/command',
    role: 'operator',
    body: { action: 'set', value: 60 },
    invalid: { body: { action: 'set' }, path: 'body.value' },
    status: 202,
    check: (j, t) => {
      expect(j.command).toMatchObject({ action: 'set', value: 60, reason: 'manual:otto' });
      expect(t.rules.calls.at(-1)).toEqual({ method: 'command', args: ['shed-1-fan', 'set', 60, 'otto', { untilMs: undefined, forMs: undefined }] });
    },
  },
  {
    method: 'POST',
    url: '/api/actuators/shed-1-spray/mode',
    role: 'operator',
    body: { mode: 'manual', forMinutes: 30 },
    invalid: { body: { mode: 'sometimes' }, path: 'body.mode' },
    check: (j) => expect(j.actuator).toMatchObject({ device: 'shed-1-spray', mode: 'manual', manualUntil: expect.any(Number) }),
  },
  {
    method: 'GET',
    url: '/api/commands?device=shed-1-fan',
    role: 'viewer',
    invalid: { url: '/api/commands?limit=0', path: 'querystring.limit' },
    check: (j) => expect(j.commands).toEqual([]),
  },
  { method: 'GET', url: '/api/rules', role: 'viewer', check: (j) => expect(j.rules.map((r: any) => r.id)).toEqual(['shed-ammonia', 'pipe-fill']) },
  {
    method: 'PUT',
    url: '/api/rules',
    role: 'admin',
    body: [GOOD_RULE],
    invalid: { body: [{ ...GOOD_RULE, when: { metric: 'temperature', above: 'hot' } }], path: 'body[0].when' },
    check: (j) => expect(j).toMatchObject({ changed: ['hot-shed'], removed: ['shed-ammonia', 'pipe-fill'] }),
  },
  {
    method: 'POST',
    url: '/api/rules/dry-run',
    role: 'operator',
    body: { rule: GOOD_RULE, from: '-7d', to: 'now' },
    invalid: { body: { rule: GOOD_RULE, from: 'whenever' }, path: 'body.from' },
    check: (j) => expect(j.events[0]).toMatchObject({ kind: 'fired', zone: 'shed-1' }),
  },
  { method: 'GET', url: '/api/rejects', role: 'operator', check: (j) => expect(j.rejects[0]).toMatchObject({ reason: 'out_of_range', device: 'shed-1-env' }) },
  {
    method: 'GET',
    url: '/api/users',
    role: 'admin',
    check: (j) =>
      expect(j.users).toEqual([
        { name: 'ada', role: 'admin', source: 'farm-file' },
        { name: 'otto', role: 'operator', source: 'farm-file' },
        { name: 'vera', role: 'viewer', source: 'farm-file' },
      ]),
  },
  {
    method: 'POST',
    url: '/api/shares',
    role: 'operator',
    body: { site: 'huyang', zone: 'field-1', metrics: ['soil_moisture'], expiresInDays: 90 },
    invalid: { body: { site: 'huyang', zone: 'field-1', expiresInDays: 0 }, path: 'body.expiresInDays' },
    status: 201,
    check: async (j, t) => {
      expect(j).toMatchObject({
        id: expect.any(String),
        token: expect.any(String),
        url: expect.stringMatching(/\/share\/[\w-]{40,}$/),
        share: { site: 'huyang', zone: 'field-1', metrics: ['soil_moisture'], state: 'active', createdBy: 'otto' },
      });
      const shared = await t.dashboard.app.inject({ url: `/api/share/${j.token}` });
      expect(shared.json()).toMatchObject({ zone: { id: 'field-1', name: 'North field' }, values: [{ metric: 'soil_moisture', value: 31 }] });
    },
  },
  {
    method: 'GET',
    url: '/api/shares',
    role: 'operator',
    check: (j) => expect(j.shares).toEqual([expect.objectContaining({ id: expect.any(String), site: 'huyang', zone: 'shed-1', state: 'active' })]),
  },
  {
    method: 'DELETE',
    url: '/api/shares/SHARE',
    role: 'operator',
    invalid: { url: '/api/shares/not%20an%20id', path: 'params.id' },
    check: (j) => expect(j).toMatchObject({ state: 'revoked', revokedBy: 'otto' }),
  },
  {
    method: 'POST',
    url: '/api/displays',
    role: 'admin',
    body: { name: 'control room wall', sites: ['city'] },
    invalid: { body: { name: '' }, path: 'body.name' },
    status: 201,
    check: async (j, t) => {
      expect(j).toMatchObject({
        token: expect.any(String),
        url: expect.stringMatching(/\/display\/[\w-]{40,}$/),
        display: { name: 'control room wall', sites: ['city'], state: 'active' },
      });
      const me = await t.dashboard.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${j.token}` } });
      expect(me.json()).toEqual({ user: 'control room wall', role: 'viewer', kind: 'display', sites: ['city'] });
    },
  },
  {
    method: 'GET',
    url: '/api/displays',
    role: 'admin',
    check: (j) => expect(j.displays).toEqual([expect.objectContaining({ name: 'hall screen', state: 'active' })]),
  },
  {
    method: 'DELETE',
    url: '/api/displays/DISPLAY',
    role: 'admin',
    invalid: { url: '/api/displays/not%20an%20id', path: 'params.id' },
    check: (j) => expect(j).toMatchObject({ name: 'hall screen', state: 'revoked', revokedBy: 'ada' }),
  },
  {
    method: 'GET',
    url: '/api/audit?action=login',
    role: 'admin',
    invalid: { url: '/api/audit?limit=0', path: 'querystring.limit' },
    check: (j) => expect(j.entries[0]).toMatchObject({ actor: 'ada', action: 'login', outcome: 'ok', status: 200, address: '127.0.0.1' }),
  },
  {
    method: 'PUT',
    url: '/api/users/nina',
    role: 'admin',
    body: { role: 'operator', password: 'nina-night-shift' },
    invalid: { body: { role: 'boss', password: 'nina-night-shift' }, path: 'body.role' },
    check: async (j, t) => {
      expect(j).toEqual({ user: { name: 'nina', role: 'operator', source: 'api' }, created: true });
      const login = await t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'nina', password: 'nina-night-shift' } });
      expect(login.json()).toMatchObject({ user: 'nina', role: 'operator' });
    },
  },
  {
    method: 'DELETE',
    url: '/api/users/vera',
    role: 'admin',
    invalid: { url: '/api/users/..%2F..%2Fetc', path: 'params.name' },
    check: async (j, t) => {
      expect(j).toEqual({ ok: true });
      const login = await t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'vera', password: 'viewer-password' } });
      expect(login.statusCode).toBe(401);
    },
  },
  {
    method: 'GET',
    url: '/api/animals?zone=shed-1',
    role: 'viewer',
    invalid: { url: '/api/animals?show=lost', path: 'querystring.show' },
    check: (j) => {
      expect(j.total).toBe(4);
      const byTag = Object.fromEntries(j.animals.map((a: any) => [a.tag, a]));
      expect(byTag[TAGS.ewe]).toMatchObject({ known: true, group: 'ewes', location: 'in', zone: 'shed-1', lastSeenBy: 'shed-1-gate', missing: false });
      expect(byTag[TAGS.lamb]).toMatchObject({ location: 'out', zone: 'shed-1' });
      expect(byTag[TAGS.stray]).toMatchObject({ known: false, location: 'in', zone: 'shed-1' });
    },
  },
  {
    method: 'GET',
    url: `/api/animals/${TAGS.lamb}`,
    role: 'viewer',
    invalid: { url: '/api/animals/not-a-tag!', path: 'params.tag' },
    check: (j) => {
      expect(j.animal).toMatchObject({ tag: TAGS.lamb, location: 'out' });
      expect(j.reads.map((r: any) => r.direction)).toEqual(['out', 'in']);
      expect(j.moves.map((m: any) => [m.direction, m.zone])).toEqual([
        ['out', 'shed-1'],
        ['in', 'shed-1'],
      ]);
    },
  },
  {
    method: 'POST',
    url: '/api/animals/import',
    role: 'admin',
    body: `tag,group,born,sex,zone\n982000000000010,ewes,2025-02-01,f,shed-1\n${TAGS.ewe},old-ewes,2025-03-02,f,shed-1\n12345,ewes,,f,shed-1\n`,
    invalid: { body: 'id,flock\n1,a\n', path: 'body' },
    check: async (j, t) => {
      expect(j).toEqual({
        lines: 3,
        added: 1,
        updated: 1,
        unchanged: 0,
        rejected: [{ line: 4, reason: expect.stringContaining('FDX-B'), text: '12345,ewes,,f,shed-1' }],
      });
      const res = await t.dashboard.app.inject({ url: '/api/animals?group=old-ewes', headers: await t.auth('viewer') });
      expect(res.json().animals.map((a: any) => a.tag)).toEqual([TAGS.ewe]);
    },
  },
  {
    method: 'POST',
    url: '/api/silences',
    role: 'operator',
    body: { match: { site: 'city', zone: 'pipe-a' }, forMinutes: 90, reason: 'dredging pipe A' },
    invalid: { body: { match: {}, forMinutes: 90, reason: 'x' }, path: 'body.match' },
    status: 201,
    check: async (j, t) => {
      expect(j.silence).toMatchObject({ match: { site: 'city', zone: 'pipe-a' }, reason: 'dredging pipe A', createdBy: 'otto', active: true });
      expect(j.silence.endsAt - j.silence.startsAt).toBe(90 * 60_000);
      // The pipe alert is still listed, marked silenced.
      const alerts = (await t.dashboard.app.inject({ url: '/api/alerts?state=active', headers: await t.auth('viewer') })).json().alerts;
      expect(alerts.find((a: any) => a.zone === 'pipe-a').silence).toMatchObject({ id: j.silence.id, reason: 'dredging pipe A' });
      // In the audit log, with who, where and what.
      const audit = (await t.dashboard.app.inject({ url: '/api/audit?action=silence.create', headers: await t.auth('admin') })).json();
      expect(audit.entries[0]).toMatchObject({
        actor: 'otto',
        action: 'silence.create',
        site: 'city',
        target: j.silence.id,
        outcome: 'ok',
        detail: { reason: 'dredging pipe A' },
      });
    },
  },
  {
    method: 'GET',
    url: '/api/silences?state=all',
    role: 'viewer',
    invalid: { url: '/api/silences?state=soon', path: 'querystring.state' },
    check: (j) => expect(j.silences.map((s: any) => [s.match, s.reason, s.active])).toEqual([[{ rule: 'no-such-rule' }, 'test', true]]),
  },
  {
    method: 'DELETE',
    url: '/api/silences/SILENCE',
    role: 'operator',
    check: async (j, t) => {
      expect(j.silence).toMatchObject({ endedBy: 'otto', active: false });
      const audit = (await t.dashboard.app.inject({ url: '/api/audit?action=silence.end', headers: await t.auth('admin') })).json();
      expect(audit.entries[0]).toMatchObject({ actor: 'otto', action: 'silence.end', target: j.silence.id, outcome: 'ok' });
    },
  },
  {
    method: 'GET',
    url: '/api/notifications?alert=ALERT',
    role: 'viewer',
    invalid: { url: '/api/notifications?from=yesterday-ish', path: 'querystring.from' },
    check: async (j, t) => {
      // The city alert goes to the duty-hook channel (grouped for 100 ms in this fixture).
      const city = t.rules.activeAlerts().find((a) => a.site === 'city')!;
      const { waitFor } = await import('../helpers/ports.js');
      const list = await waitFor(async () => {
        const res = await t.dashboard.app.inject({ url: `/api/notifications?alert=${encodeURIComponent(city.id)}`, headers: await t.auth('viewer') });
        const d = res.json().deliveries;
        return d.length > 0 && d[0].attempts > 0 ? d : undefined;
      }, 'a delivery attempt');
      expect(list[0]).toMatchObject({ channel: 'duty-hook', channelType: 'webhook', site: 'city', alerts: [{ id: city.id, reason: 'raised' }] });
      expect(Array.isArray(j.deliveries)).toBe(true);
    },
  },
  {
    method: 'POST',
    url: '/api/channels/duty-hook/test',
    role: 'admin',
    invalid: { url: '/api/channels/Not_An_Id!/test', path: 'params.id' },
    check: async (j, t) => {
      expect(j.delivery).toMatchObject({
        channel: 'duty-hook',
        kind: 'test',
        attempts: 1,
        outcome: 'retrying',
        error: expect.stringMatching(/could not reach the receiver/),
      });
      const audit = (await t.dashboard.app.inject({ url: '/api/audit?action=channel.test', headers: await t.auth('admin') })).json();
      expect(audit.entries[0]).toMatchObject({ actor: 'ada', action: 'channel.test', target: 'duty-hook', outcome: 'ok', detail: { outcome: 'retrying' } });
    },
  },
];

/** The CSV import takes text/csv; every other route JSON. */
function payload(body: unknown): { payload?: string | object; headers: Record<string, string> } {
  if (typeof body === 'string') return { payload: body, headers: { 'content-type': 'text/csv' } };
  return { payload: body as object, headers: {} };
}

const BELOW: Record<TestRole, TestRole | undefined> = { viewer: undefined, operator: 'viewer', admin: 'operator' };

let t: TestDashboard;
let routes: readonly RouteEntry[] = [];

async function fresh(): Promise<TestDashboard> {
  const d = await buildTestDashboard();
  await seedHistory(d, Date.now(), 24, 10);
  d.bus.emit('reading', { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', ts: Date.now(), metrics: { nh3: 12 } });
  d.rules.raise({ site: 'huyang', zone: 'shed-1', severity: 'warning', message: 'warm' });
  d.rules.raise({ site: 'city', zone: 'pipe-a', severity: 'critical', level: 'red', message: 'Pipe A fill 90 %' });
  const now = Date.now();
  await seedTagReads(d, [
    { tag: TAGS.ewe, ts: now - 3_600_000, direction: 'in' },
    { tag: TAGS.ram, ts: now - 3_500_000, direction: 'in' },
    { tag: TAGS.lamb, ts: now - 3_400_000, direction: 'in' },
    { tag: TAGS.lamb, ts: now - 600_000, direction: 'out' },
    { tag: TAGS.stray, ts: now - 500_000, direction: 'in' },
  ]);
  d.ingest.addReject({
    reason: 'out_of_range',
    detail: 'nh3 900 is outside 0..500',
    topic: 'farm/huyang/shed-1/shed-1-env/telemetry',
    device: 'shed-1-env',
    ts: Date.now(),
  });
  const { share } = await d.dashboard.app
    .inject({ method: 'POST', url: '/api/shares', payload: { site: 'huyang', zone: 'shed-1' }, headers: await d.auth('operator') })
    .then((r) => r.json());
  const { display } = await d.dashboard.app
    .inject({ method: 'POST', url: '/api/displays', payload: { name: 'hall screen' }, headers: await d.auth('admin') })
    .then((r) => r.json());
  const silence = await d.notifications.addSilence({ match: { rule: 'no-such-rule' }, endsAt: Date.now() + 3_600_000, reason: 'test' }, 'otto');
  fixtures.set(d, { share: share.id, display: display.id, silence: silence.id });
  return d;
}

const fixtures = new WeakMap<TestDashboard, { share: string; display: string; silence: string }>();

function urlFor(c: RouteCase, d: TestDashboard): string {
  const ids = fixtures.get(d);
  return c.url
    .replace('ALERT', d.rules.activeAlerts()[0]?.id ?? 'none')
    .replace('SHARE', ids?.share ?? 'none')
    .replace('DISPLAY', ids?.display ?? 'none')
    .replace('SILENCE', ids?.silence ?? 'none');
}

beforeAll(async () => {
  t = await fresh();
  await t.dashboard.app.ready();
  routes = t.dashboard.routes();
});
afterAll(async () => t.close());

describe('every API route', () => {
  it('is in this table (so each one is tested below)', () => {
    const api = routes.filter((r) => r.url.startsWith('/api/') && !r.url.startsWith('/api/docs') && r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`);
    const covered = CASES.map(
      (c) =>
        `${c.method} ${c.url
          .split('?')[0]
          .replace('/api/sites/city', '/api/sites/:site')
          .replace(/\/api\/actuators\/[^/]+/, '/api/actuators/:id')
          .replace(/\/api\/users\/[^/]+/, '/api/users/:name')
          .replace(/\/api\/animals\/\d+$/, '/api/animals/:tag')
          .replace('/api/channels/duty-hook', '/api/channels/:id')
          .replace(/ALERT|SHARE|DISPLAY|SILENCE/, ':id')}`,
    );
    expect(api.length).toBeGreaterThan(10);
    // Login and the share link's own API are tested in api-auth.test.ts and shares.test.ts.
    for (const route of api) if (route !== 'POST /api/login' && route !== 'GET /api/share/:token') expect(covered, route).toContain(route);
  });

  it('needs a login, except /health, /metrics, the page and POST /api/login', async () => {
    const publicRoutes = new Set([
      'GET /health',
      'GET /metrics',
      'POST /api/login',
      'GET /',
      'GET /app.js',
      'GET /app.css',
      'GET /share/:token',
      'GET /share.js',
      'GET /share.css',
      'GET /api/share/:token',
      'GET /display/:token',
    ]);
    for (const r of routes) {
      for (const method of [r.method].flat()) {
        if (method === 'HEAD') continue;
        const url = r.url.replace(/:(\w+)/g, 'x').replace('*', 'index.html');
        const res = await t.dashboard.app.inject({ method, url });
        if (publicRoutes.has(`${method} ${r.url}`)) expect(res.statusCode, `${method} ${url}`).not.toBe(401);
        else expect(res.statusCode, `${method} ${url}`).toBe(401);
      }
    }
  });

  for (const c of CASES) {
    describe(`${c.method} ${c.url.split('?')[0]}`, () => {
      it('answers 401 without a login', async () => {
        const p = payload(c.body);
        const res = await t.dashboard.app.inject({ method: c.method, url: urlFor(c, t), payload: p.payload, headers: p.headers });
        expect(res.statusCode).toBe(401);
        expect(res.json().error).toBe('UNAUTHENTICATED');
      });

      const below = BELOW[c.role];
      if (below)
        it(`answers 403 to a ${below}`, async () => {
          const p = payload(c.body);
          const res = await t.dashboard.app.inject({
            method: c.method,
            url: urlFor(c, t),
            payload: p.payload,
            headers: { ...p.headers, ...(await t.auth(below)) },
          });
          expect(res.statusCode).toBe(403);
          expect(res.json().message).toMatch(new RegExp(`needs the ${c.role} role`));
        });

      if (c.invalid)
        it(`answers 400 naming ${c.invalid.path} for bad input`, async () => {
          const p = payload(c.invalid!.body ?? c.body);
          const res = await t.dashboard.app.inject({
            method: c.method,
            url: c.invalid!.url ?? urlFor(c, t),
            payload: p.payload,
            headers: { ...p.headers, ...(await t.auth('admin')) },
          });
          expect(res.statusCode).toBe(400);
          expect(['VALIDATION', 'RULES_INVALID']).toContain(res.json().error);
          expect(
            res
              .json()
              .problems.map((p: { path: string }) => p.path)
              .join(' '),
          ).toContain(c.invalid!.path);
        });

      it(`does its job for a ${c.role}`, async () => {
        const d = await fresh();
        try {
          const p = payload(c.body);
          const res = await d.dashboard.app.inject({
            method: c.method,
            url: urlFor(c, d),
            payload: p.payload,
            headers: { ...p.headers, ...(await d.auth(c.role)) },
          });
          expect(res.statusCode, res.body).toBe(c.status ?? 200);
          await c.check?.(res.json(), d);
        } finally {
          await d.close();
        }
      });
    });
  }
});

describe('answers that say what to do', () => {
  it('too many buckets is a 400 that asks for a larger every', async () => {
    const res = await t.dashboard.app.inject({ url: '/api/readings?metric=nh3&from=-7d&every=1s', headers: await t.auth('viewer') });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'TOO_MANY_BUCKETS', message: expect.stringMatching(/larger "every"/) });
  });

  it('from after to is a 400', async () => {
    const res = await t.dashboard.app.inject({ url: '/api/readings?metric=nh3&from=now&to=-1h', headers: await t.auth('viewer') });
    expect(res.statusCode).toBe(400);
    expect(res.json().problems[0].path).toBe('querystring.from');
  });

  it('an unknown device, site or alert is a 404 that names it', async () => {
    const h = await t.auth('operator');
    const cases = [
      ['GET', '/api/readings?metric=nh3&device=ghost'],
      ['GET', '/api/sites/atlantis'],
      ['POST', '/api/actuators/ghost/command'],
      ['POST', '/api/alerts/no-such-alert/ack'],
    ] as const;
    for (const [method, url] of cases) {
      const res = await t.dashboard.app.inject({ method, url, headers: h, payload: method === 'POST' ? { action: 'on' } : undefined });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().message, url).toMatch(/ghost|atlantis|no-such-alert/);
    }
  });

  it('commanding a sensor is a 409 saying only actuators take commands', async () => {
    const res = await t.dashboard.app.inject({
      method: 'POST',
      url: '/api/actuators/shed-1-env/command',
      payload: { action: 'on' },
      headers: await t.auth('operator'),
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: 'NOT_ACTUATOR', message: expect.stringMatching(/only actuators/) });
  });

  it('malformed JSON is a 400, not a 500', async () => {
    const res = await t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: '{"username": ', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
  });

  it('a failing store is a 503 that points at /health', async () => {
    const d = await fresh();
    d.store.history = async () => {
      const { StoreError } = await import('../../store/store.js');
      throw new StoreError('STORE_UNREACHABLE', 'InfluxDB at http://influx:8086 does not answer.', true);
    };
    const res = await d.dashboard.app.inject({ url: '/api/readings?metric=nh3', headers: await d.auth('viewer') });
    await d.close();
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: 'STORE_UNAVAILABLE', message: expect.stringMatching(/does not answer.*\/health/) });
  });
});

describe('OpenAPI document', () => {
  it('is generated from the route schemas and browsable at /api/docs after login', async () => {
    expect((await t.dashboard.app.inject({ url: '/api/docs/json' })).statusCode).toBe(401);
    const h = await t.auth('viewer');
    const doc = (await t.dashboard.app.inject({ url: '/api/docs/json', headers: h })).json();
    expect(doc.openapi).toBe('3.0.3');
    for (const path of [
      '/api/login',
      '/api/sites',
      '/api/readings',
      '/api/alerts/{id}/ack',
      '/api/actuators/{id}/command',
      '/api/rules',
      '/api/rules/dry-run',
      '/api/rejects',
      '/health',
    ])
      expect(Object.keys(doc.paths), path).toContain(path);
    const readings = doc.paths['/api/readings'].get;
    expect(readings.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['metric', 'from', 'to', 'every', 'device']));
    expect(doc.paths['/api/actuators/{id}/command'].post.description).toMatch(/operator/);
    const ui = await t.dashboard.app.inject({ url: '/api/docs', headers: h });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toMatch(/swagger/i);
  });
});
