import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteOf } from '../../dashboard/access/site-scope.js';
import { siteOf } from '../../dashboard/access/site-scope.js';
import { buildTestDashboard, PASSWORDS, seedHistory, TAGS, testFarmConfig, type TestDashboard } from './fixtures.js';

/**
 * A user limited to the drainage site ("city") must never learn that the farm site ("huyang") exists. This walks
 * every route fastify has registered (dashboard.routes(), not a list kept here) as an admin of "city" only:
 * - a route that names a site, device, alert or other thing in its path or body is aimed at one of huyang's and
 *   must answer exactly what it answers for one that does not exist (404, the same message);
 * - a route with filters is aimed at huyang's site, zone and device the same way;
 * - every route, asked without filters, answers nothing that names huyang, its zones, devices, names or rules.
 * A new route is walked as soon as it is registered; it needs an entry in PROBES only when it needs input.
 */
const CITY_ADMIN = { name: 'cia', password: 'city-admin-password' };
const FARM_HAND = { name: 'farmhand-li', password: 'farm-hand-password' };
/** Strings that only huyang's data contains. */
const HIDDEN = ['huyang', 'Huyang', 'shed-1', 'field-1', 'Shed 1', 'North field', 'shed-ammonia', 'farm-wall', 'farmhand-li', TAGS.ewe, TAGS.ram];
const GHOST = { site: 'atlantis', zone: 'ghost-zone', device: 'ghost-device', alert: 'ghost-alert', id: 'ghostid', user: 'ghost-user' };

type Payload = Record<string, unknown> | unknown[] | string;
interface Probe {
  query?: Record<string, string>;
  body?: Payload;
  contentType?: string;
  /** More requests with other inputs, each checked for leaks as well (e.g. the CSV export of the same route). */
  variants?: { query?: Record<string, string>; body?: Payload }[];
}

const TEMPERATURE_RULE = { id: 'dry-run', scope: { kind: 'shed' }, when: { metric: 'temperature', above: 0 }, actions: [{ alert: { severity: 'info' } }] };

/** Inputs a route needs to get past validation; keyed by method and URL as registered. */
const PROBES: Record<string, Probe> = {
  // temperature is measured only in huyang: an unfiltered answer that is not cut to "city" shows shed-1-env.
  'GET /api/readings': {
    query: { metric: 'temperature', from: '-2d', every: '1h' },
    variants: [{ query: { format: 'csv', from: '-2d' } }, { query: { format: 'csv', metric: 'temperature', every: '1h', from: '-2d' } }],
  },
  'GET /api/alerts': {
    query: { state: 'all', from: '-2d' },
    variants: [{ query: { state: 'active' } }, { query: { state: 'all', format: 'csv', from: '-2d' } }, { query: { state: 'active', format: 'csv' } }],
  },
  'GET /api/commands': { query: { from: '-2d' } },
  'POST /api/actuators/:id/command': { body: { action: 'on' } },
  'POST /api/actuators/:id/mode': { body: { mode: 'manual' } },
  'PUT /api/rules': { body: [] },
  'POST /api/rules/dry-run': { body: { rule: TEMPERATURE_RULE, from: '-1d' } },
  'PUT /api/users/:name': { body: { role: 'viewer', password: 'a-new-password' } },
  'POST /api/shares': { body: { site: 'city', zone: 'pipe-a' } },
  'POST /api/displays': { body: { name: 'city wall' } },
  'POST /api/login': { body: { username: CITY_ADMIN.name, password: CITY_ADMIN.password } },
  'GET /api/audit': { query: { from: '-1d' } },
  'GET /api/animals': { variants: [{ query: { show: 'unknown' } }, { query: { show: 'missing' } }] },
  'POST /api/animals/import': { body: 'tag,group,born,sex,zone\n982000000000555,ewes,2025-02-01,f,pipe-a\n', contentType: 'text/csv' },
  'POST /api/silences': { body: { match: { site: 'city', zone: 'pipe-b' }, forMinutes: 30, reason: 'walk' } },
  'GET /api/silences': { variants: [{ query: { state: 'all' } }] },
  'GET /api/notifications': { query: { from: '-1d' } },
};

let t: TestDashboard;
let hidden: { alert: string; share: string; shareToken: string; display: string; silence: string };
const tokens = new Map<string, string>();

async function login(user: { name: string; password: string }): Promise<string> {
  const res = await t.dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username: user.name, password: user.password } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().token as string;
}

async function cityAdmin(): Promise<Record<string, string>> {
  if (!tokens.has('cia')) tokens.set('cia', await login(CITY_ADMIN));
  return { authorization: `Bearer ${tokens.get('cia')}` };
}

function withQuery(url: string, query: Record<string, string> | undefined): string {
  return query && Object.keys(query).length > 0 ? `${url}?${new URLSearchParams(query)}` : url;
}

function leaks(body: string): string[] {
  return HIDDEN.filter((h) => body.includes(h));
}

beforeAll(async () => {
  const base = testFarmConfig();
  const config = testFarmConfig({
    users: [
      ...base.users.map((u) => ({ name: u.name, role: u.role, password: u.password })),
      { name: CITY_ADMIN.name, role: 'admin', sites: ['city'], password: CITY_ADMIN.password },
      { name: FARM_HAND.name, role: 'operator', sites: ['huyang'], password: FARM_HAND.password },
    ],
  });
  t = await buildTestDashboard({}, { config });
  const now = Date.now();
  await seedHistory(t, now, 24, 30);
  t.bus.emit('reading', { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', ts: now, metrics: { nh3: 12, temperature: 21 } });
  const alert = t.rules.raise({ site: 'huyang', zone: 'shed-1', device: 'shed-1-env', severity: 'warning', message: 'Ammonia in Shed 1' });
  t.rules.raise({ site: 'city', zone: 'pipe-a', device: 'pipe-a-level', severity: 'critical', level: 'red', message: 'Pipe A fill 90 %' });
  t.ingest.addReject({
    reason: 'out_of_range',
    detail: 'nh3 900 is outside 0..500',
    topic: 'farm/huyang/shed-1/shed-1-env/telemetry',
    device: 'shed-1-env',
    ts: now,
  });
  const admin = await t.auth('admin');
  const farmHand = { authorization: `Bearer ${await login(FARM_HAND)}` };
  // Things of huyang made by its own people: a command, a share link, a display token, audit entries.
  expect(
    (await t.dashboard.app.inject({ method: 'POST', url: '/api/actuators/shed-1-fan/command', payload: { action: 'on' }, headers: farmHand })).statusCode,
  ).toBe(202);
  const share = (await t.dashboard.app.inject({ method: 'POST', url: '/api/shares', payload: { site: 'huyang', zone: 'shed-1' }, headers: farmHand })).json();
  const display = (
    await t.dashboard.app.inject({ method: 'POST', url: '/api/displays', payload: { name: 'farm-wall', sites: ['huyang'] }, headers: admin })
  ).json();
  // A silence of huyang's shed, and one by rule alone (every site): neither is the city admin's to see or end.
  const silence = (
    await t.dashboard.app.inject({
      method: 'POST',
      url: '/api/silences',
      payload: { match: { site: 'huyang', zone: 'shed-1' }, forMinutes: 60, reason: 'shed-1 cleaning' },
      headers: farmHand,
    })
  ).json().silence;
  expect(
    (
      await t.dashboard.app.inject({
        method: 'POST',
        url: '/api/silences',
        payload: { match: { rule: 'shed-ammonia' }, forMinutes: 60, reason: 'sensor swap' },
        headers: admin,
      })
    ).statusCode,
  ).toBe(201);
  hidden = { alert: alert.id, share: share.id, shareToken: share.token, display: display.id, silence: silence.id };
  await t.dashboard.app.ready();
}, 60_000);
afterAll(async () => t?.close());

/** The request aimed at one of huyang's things, and the same aimed at a thing that does not exist. */
function aimed(route: { method: string; url: string }, declared: SiteOf, probe: Probe): { hidden: Req; ghost: Req; ids: [string, string] }[] {
  const fill = (values: Record<string, string>) => route.url.replace(/:(\w+)/g, (_, name: string) => values[name] ?? 'x');
  const req = (url: string, query = probe.query, body = probe.body): Req => ({
    method: route.method,
    url: withQuery(url, query),
    body,
    contentType: probe.contentType,
  });
  switch (declared.by) {
    case 'site':
      return [{ hidden: req(fill({ [declared.param]: 'huyang' })), ghost: req(fill({ [declared.param]: GHOST.site })), ids: ['huyang', GHOST.site] }];
    case 'device':
      return [
        { hidden: req(fill({ [declared.param]: 'shed-1-fan' })), ghost: req(fill({ [declared.param]: GHOST.device })), ids: ['shed-1-fan', GHOST.device] },
      ];
    case 'alert':
      return [{ hidden: req(fill({ [declared.param]: hidden.alert })), ghost: req(fill({ [declared.param]: GHOST.alert })), ids: [hidden.alert, GHOST.alert] }];
    case 'filters': {
      const aim = (key: 'site' | 'zone' | 'device', value: string, ghost: string) => {
        if (declared.in === 'query')
          return {
            hidden: req(route.url, { ...probe.query, [key]: value }),
            ghost: req(route.url, { ...probe.query, [key]: ghost }),
            ids: [value, ghost] as [string, string],
          };
        const body = probe.body as Record<string, unknown>;
        return {
          hidden: req(route.url, probe.query, { ...body, [key]: value }),
          ghost: req(route.url, probe.query, { ...body, [key]: ghost }),
          ids: [value, ghost] as [string, string],
        };
      };
      const aims = {
        site: () => aim('site', 'huyang', GHOST.site),
        zone: () => aim('zone', 'shed-1', GHOST.zone),
        device: () => aim('device', 'shed-1-env', GHOST.device),
      };
      return declared.keys.map((k) => aims[k]());
    }
    case 'resource': {
      const targets: Record<string, () => { hidden: Req; ghost: Req; ids: [string, string] }> = {
        share: () => ({ hidden: req(fill({ id: hidden.share })), ghost: req(fill({ id: GHOST.id })), ids: [hidden.share, GHOST.id] }),
        display: () => ({ hidden: req(fill({ id: hidden.display })), ghost: req(fill({ id: GHOST.id })), ids: [hidden.display, GHOST.id] }),
        // A user outside the admin's sites answers like a user that does not exist (a DELETE; a PUT would create one).
        user: () => ({
          hidden: req(fill({ name: FARM_HAND.name })),
          ghost: { ...req(fill({ name: GHOST.user })), method: 'DELETE', body: undefined },
          ids: [FARM_HAND.name, GHOST.user],
        }),
        rules: () => {
          const naming = (site: string) => ({ id: 'scoped', scope: { site }, when: { metric: 'fill', above: 90 }, actions: [{ alert: { severity: 'info' } }] });
          const body = (site: string) => (route.url === '/api/rules' ? [naming(site)] : { rule: naming(site) });
          return { hidden: req(route.url, probe.query, body('huyang')), ghost: req(route.url, probe.query, body(GHOST.site)), ids: ['huyang', GHOST.site] };
        },
        animal: () => ({ hidden: req(fill({ tag: TAGS.ewe })), ghost: req(fill({ tag: '982000000000777' })), ids: [TAGS.ewe, '982000000000777'] }),
        silence: () => ({ hidden: req(fill({ id: hidden.silence })), ghost: req(fill({ id: GHOST.id })), ids: [hidden.silence, GHOST.id] }),
        'silence-match': () => {
          const body = (site: string) => ({ ...(probe.body as Record<string, unknown>), match: { site } });
          return { hidden: req(route.url, probe.query, body('huyang')), ghost: req(route.url, probe.query, body(GHOST.site)), ids: ['huyang', GHOST.site] };
        },
        // Channels are farm-wide: to an admin of some sites only, one that exists answers as one that does not.
        channel: () => ({ hidden: req(fill({ id: 'duty-hook' })), ghost: req(fill({ id: 'ghost-channel' })), ids: ['duty-hook', 'ghost-channel'] }),
        'display-sites': () => ({
          hidden: req(route.url, probe.query, { name: 'x', sites: ['huyang'] }),
          ghost: req(route.url, probe.query, { name: 'x', sites: [GHOST.site] }),
          ids: ['huyang', GHOST.site],
        }),
      };
      const target = targets[declared.what];
      if (!target)
        throw new Error(
          `${route.method} ${route.url} declares siteOf.resource('${declared.what}'): add a target for '${declared.what}' to aimed() in this test`,
        );
      return [target()];
    }
    case 'none':
    case 'list':
      return [];
  }
}

interface Req {
  method: string;
  url: string;
  body?: Payload;
  contentType?: string;
}

async function send(r: Req, headers: Record<string, string>) {
  return t.dashboard.app.inject({
    method: r.method as 'GET',
    url: r.url,
    payload: r.body as object,
    headers: r.contentType ? { ...headers, 'content-type': r.contentType } : headers,
  });
}

describe('a user limited to one site, on every registered route', () => {
  it('never learns of another site: 404 like a thing that does not exist, and lists without it', async () => {
    const routes = t.dashboard.routes().filter((r) => r.method !== 'HEAD'); // HEAD answers as its GET does
    expect(routes.length).toBeGreaterThan(30);
    const walked: string[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      const declared = route.config.site!;
      expect(declared, key).toBeDefined();
      const probe = PROBES[key] ?? {};
      // Logging out ends the session: that route gets a session of its own.
      const headers = key === 'POST /api/logout' ? { authorization: `Bearer ${await login(CITY_ADMIN)}` } : await cityAdmin();

      for (const { hidden: h, ghost, ids } of aimed(route, declared, probe)) {
        const [a, b] = [await send(h, headers), await send(ghost, headers)];
        expect(a.statusCode, `${key} aimed at huyang (${h.url})`).toBe(404);
        expect(b.statusCode, `${key} aimed at a ghost (${ghost.url})`).toBe(404);
        expect(a.body.replaceAll(ids[0], '<id>'), `${key}: the same answer as for something that does not exist`).toBe(b.body.replaceAll(ids[1], '<id>'));
      }

      const fillX = route.url.replace(/:(\w+)/g, (_, name: string) =>
        name === 'site' ? 'city' : name === 'name' ? 'newbie' : name === 'id' && route.url.includes('actuators') ? 'pipe-a-level' : 'x',
      );
      for (const input of [{ query: probe.query, body: probe.body }, ...(probe.variants ?? [])]) {
        const res = await send({ method: route.method, url: withQuery(fillX, input.query), body: input.body, contentType: probe.contentType }, headers);
        expect(res.statusCode, `${key}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
        if (res.statusCode === 400) throw new Error(`${key} refused the walk's request (${res.body.slice(0, 200)}): give it valid input in PROBES`);
        expect(leaks(res.body), `${key} ${withQuery(fillX, input.query)} names huyang: ${res.body.slice(0, 400)}`).toEqual([]);
      }
      walked.push(key);
    }
    // The walk reached the routes that matter, by their declarations.
    for (const key of [
      'GET /api/sites',
      'GET /api/sites/:site',
      'POST /api/actuators/:id/command',
      'POST /api/alerts/:id/ack',
      'GET /api/readings',
      'GET /api/audit',
      'DELETE /api/shares/:id',
      'PUT /api/users/:name',
    ])
      expect(walked).toContain(key);
  });

  it('still sees and works its own site: lists have it, commands and exports go through', async () => {
    const headers = await cityAdmin();
    const sites = (await t.dashboard.app.inject({ url: '/api/sites', headers })).json();
    expect(sites.sites.map((s: { id: string }) => s.id)).toEqual(['city']);
    const alerts = (await t.dashboard.app.inject({ url: '/api/alerts?state=active', headers })).json();
    expect(alerts.alerts.map((a: { site: string }) => a.site)).toEqual(['city']);
    const csv = await t.dashboard.app.inject({ url: '/api/readings?format=csv&metric=fill&from=-2d', headers });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toMatch(/\r\n.*,city,pipe-a,pipe-a-level,fill,/);
    const users = (await t.dashboard.app.inject({ url: '/api/users', headers })).json();
    expect(users.users.map((u: { name: string }) => u.name)).toEqual(['cia']);
  });

  it('an admin of every site sees both, and the farm hand only the farm', async () => {
    const all = (await t.dashboard.app.inject({ url: '/api/sites', headers: await t.auth('admin') })).json();
    expect(all.sites.map((s: { id: string }) => s.id)).toEqual(['huyang', 'city']);
    const hand = { authorization: `Bearer ${await login(FARM_HAND)}` };
    expect((await t.dashboard.app.inject({ url: '/api/sites/city', headers: hand })).statusCode).toBe(404);
    expect((await t.dashboard.app.inject({ url: '/api/me', headers: hand })).json()).toMatchObject({ user: 'farmhand-li', sites: ['huyang'] });
  });
});

describe('a site-limited admin managing users', () => {
  it('gives a new user their own sites, cannot give every site or another site, and cannot see other users', async () => {
    const headers = await cityAdmin();
    const created = await t.dashboard.app.inject({
      method: 'PUT',
      url: '/api/users/pipe-crew',
      payload: { role: 'operator', password: 'pipe-crew-password' },
      headers,
    });
    expect(created.json()).toMatchObject({ user: { name: 'pipe-crew', role: 'operator', sites: ['city'] }, created: true });
    const everySite = await t.dashboard.app.inject({ method: 'PUT', url: '/api/users/pipe-crew', payload: { role: 'operator', sites: null }, headers });
    expect(everySite.statusCode).toBe(403);
    const other = await t.dashboard.app.inject({ method: 'PUT', url: '/api/users/pipe-crew', payload: { role: 'operator', sites: ['huyang'] }, headers });
    expect(other.statusCode).toBe(404);
    expect(other.json().message).toBe('There is no site "huyang". GET /api/sites lists them.');
    const adminOfAll = await t.dashboard.app.inject({ method: 'DELETE', url: '/api/users/ada', headers });
    expect(adminOfAll.statusCode).toBe(404);
  });
});

describe('the declarations', () => {
  it('a route that does not say how it finds its site cannot be registered', async () => {
    const d = await buildTestDashboard();
    try {
      expect(() => d.dashboard.app.get('/api/forgotten', async () => ({ ok: true }))).toThrow(
        /GET \/api\/forgotten does not say how it finds its site: add config.site/,
      );
      // As route plugins register (routes/*.ts): the server does not start.
      void d.dashboard.app.register(async (api) => void api.get('/api/animals', async () => ({ animals: [] })));
      await expect(d.dashboard.app.ready()).rejects.toThrow(/GET \/api\/animals does not say how it finds its site/);
    } finally {
      await d.close().catch(() => {});
    }
  });

  it('a route that can change something and does not say what it writes to the audit log cannot be registered', async () => {
    const d = await buildTestDashboard();
    try {
      void d.dashboard.app.register(
        async (api) => void api.post('/api/silences', { config: { access: 'operator', site: siteOf.filters('body') } }, async () => ({ ok: true })),
      );
      await expect(d.dashboard.app.ready()).rejects.toThrow(/POST \/api\/silences can change something: add config.audit/);
    } finally {
      await d.close().catch(() => {});
    }
  });
});

describe('live events for a site-limited user', () => {
  let base: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    const { port } = await t.dashboard.start();
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    for (const s of sockets) s.close();
  });

  it('joins only its sites (another site is answered like one that does not exist) and receives nothing of the other', async () => {
    const token = tokens.get('cia') ?? (await login(CITY_ADMIN));
    const socket = connect(base, { transports: ['websocket'], reconnection: false, auth: { token } });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const answer = await socket.emitWithAck('join', { sites: ['huyang', 'city', GHOST.site] });
    expect(answer).toEqual({ ok: true, sites: ['city'], unknown: ['huyang', GHOST.site] });
    const seen: { site: string; device: string }[] = [];
    socket.on('reading', (batch: { site: string; device: string }[]) => seen.push(...batch));
    const alerts: { site: string }[] = [];
    socket.on('alert', (a: { site: string }) => alerts.push(a));
    // The farm's events first, then a marker of the user's own site: once the marker is here, the farm's are not coming.
    t.bus.emit('reading', { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', ts: Date.now(), metrics: { nh3: 40 } });
    t.rules.raise({ site: 'huyang', zone: 'shed-1', severity: 'critical', message: 'Ammonia 40 ppm' });
    t.bus.emit('reading', { site: 'city', zone: 'pipe-b', kind: 'drain', device: 'pipe-b-level', ts: Date.now(), metrics: { fill: 33 } });
    await expect.poll(() => seen.map((r) => r.device)).toContain('pipe-b-level');
    expect(seen.map((r) => r.site)).toEqual(['city']);
    expect(alerts).toEqual([]);
  });
});

void PASSWORDS;
