import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createDashboard, type DashboardHandle } from '../../dashboard/server.js';
import { createNotifications, type Notifications } from '../../notifications/notifications.js';
import { createRulesEngine, type RulesEngine } from '../../rules/engine.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { createHerd } from '../../animals/herd.js';
import type { Store } from '../../store/store.js';
import { DEMO_CONFIG } from '../helpers/service.js';
import { createFakeIngest } from './fakes.js';

/**
 * Every registered route (collected from fastify as it registers them, so a new route is fuzzed without
 * editing this file) gets generated junk: wrong types, huge numbers, NaN and Infinity, deep JSON, oversize
 * bodies, wrong content types, path traversal, unicode, missing and extra fields, prototype-pollution keys.
 * Every answer must be a 4xx (or a 2xx when the junk happens to be valid), never a 5xx, and a 4xx must say
 * what was wrong. The dashboard runs on the real rules engine and the real embedded store of the demo farm;
 * only ingest is the stand-in (its part of the API reads counters, it takes no HTTP input).
 */
const config = loadFarmConfig(DEMO_CONFIG);
let dataDir: string;
let store: Store;
let rules: RulesEngine;
let notifications: Notifications;
let dashboard: DashboardHandle;
const routes: RouteOptions[] = [];
let adminToken = '';

function rng(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}
const random = rng(20241122);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];

const deep = (depth: number, wrap: (inner: unknown) => unknown, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = wrap(v);
  return v;
};
const JUNK_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0.0001,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  2 ** 53,
  101,
  100.0001,
  '',
  ' ',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-1e309',
  '0x10',
  'true',
  'null',
  '[]',
  '{}',
  'on',
  'set',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2f',
  '\u0000',
  'a\u0000b',
  '😀🐑',
  'Ωmega-水管',
  '\u202e\u0301',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '${7*7}',
  '__proto__',
  'constructor',
  'x'.repeat(5000),
  [],
  [1, 2, 3],
  [null],
  ['a', { b: 1 }],
  {},
  { a: { b: { c: {} } } },
  { __proto__: { admin: true } },
  { constructor: { prototype: { admin: true } } },
  deep(200, (v) => [v]),
  deep(200, (v) => ({ a: v })),
];
const JUNK_STRINGS = JUNK_VALUES.filter((v): v is string => typeof v === 'string').concat([
  '-24h',
  'now',
  '1',
  '0',
  '-1',
  '99999999999999999999999',
  '2024-13-45T99:99:99Z',
  '5m',
  '0s',
  '-5m',
  '1d1d',
  'active',
  'all',
  'auto',
  'manual',
]);

/** Valid bodies to mutate (a mutation of something valid reaches deeper validation than noise). */
const GOOD_RULE = { id: 'hot-shed', scope: { kind: 'shed' }, when: { metric: 'temperature', above: 30 }, actions: [{ alert: { severity: 'warning' } }] };
const BASE_BODIES: Record<string, unknown> = {
  'POST /api/login': { username: 'admin', password: 'dev-only-admin' },
  'POST /api/actuators/:id/command': { action: 'set', value: 50 },
  'POST /api/actuators/:id/mode': { mode: 'manual', forMinutes: 30 },
  'PUT /api/rules': [GOOD_RULE],
  'POST /api/rules/dry-run': { rule: GOOD_RULE, from: '-1h', to: 'now' },
  'PUT /api/users/:name': { role: 'viewer', password: 'fuzzed-password-1' },
  'POST /api/silences': { match: { site: 'xihu-drain', zone: 'pipe-03' }, forMinutes: 60, reason: 'dredging' },
};
const PARAM_VALUES: Record<string, string[]> = {
  id: ['shed-1-fan', 'shed-1-env'],
  site: ['huyang', 'xihu-drain'],
  name: ['viewer', 'nobody'],
  '*': ['index.html', 'swagger-ui.css'],
};

function mutate(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || random() < 0.15) return pick(JUNK_VALUES);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(body) ? [...body] : { ...(body as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const r = random();
  if (r < 0.2 && keys.length > 0) delete (copy as Record<string, unknown>)[pick(keys)];
  else if (r < 0.35) (copy as Record<string, unknown>)[pick(['extra', '__proto__', 'constructor', 'role', 'admin', '0', ''])] = pick(JUNK_VALUES);
  else if (keys.length > 0) {
    const k = pick(keys);
    (copy as Record<string, unknown>)[k] = random() < 0.5 ? mutate((copy as Record<string, unknown>)[k]) : pick(JUNK_VALUES);
  }
  return copy;
}

/** The querystring keys a route declares (from its zod schema), plus keys nobody declared. */
function queryKeys(route: RouteOptions): string[] {
  const shape = (route.schema?.querystring as { shape?: Record<string, unknown> } | undefined)?.shape;
  return [...Object.keys(shape ?? {}), 'x', '__proto__[admin]', 'constructor[prototype][admin]', 'a'.repeat(300)];
}

function junkQuery(route: RouteOptions): string {
  const keys = queryKeys(route);
  const parts: string[] = [];
  const n = 1 + Math.floor(random() * 4);
  for (let i = 0; i < n; i++) {
    const key = pick(keys);
    const value = pick(JUNK_STRINGS);
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
    if (random() < 0.2) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(pick(JUNK_STRINGS))}`); // repeated key: an array
  }
  if (random() < 0.1) parts.push('%E0%A4%A', '&&&', '=', 'metric');
  return parts.join('&');
}

function junkPath(route: RouteOptions): string {
  return route.url.replace(/:(\w+)|\*/g, (_m, name: string | undefined) => {
    const r = random();
    const good = PARAM_VALUES[name ?? '*'] ?? ['x'];
    if (r < 0.3) return pick(good);
    if (r < 0.5) return encodeURIComponent(pick(JUNK_STRINGS)) || '%20';
    return pick([
      '..%2F..%2Fpackage.json',
      '%2e%2e/%2e%2e/etc/passwd',
      '..',
      '.',
      '%00',
      '%C0%AE%C0%AE',
      '%E6%B0%B4%E7%AE%A1',
      'A'.repeat(2000),
      '%',
      '%ZZ',
      'shed-1-fan%0d%0aSet-Cookie:x=1',
    ]);
  });
}

type Payload = { body?: string | Buffer; contentType?: string };
function junkPayload(key: string): Payload {
  const base = BASE_BODIES[key] ?? {};
  const r = random();
  if (r < 0.55) return { body: JSON.stringify(mutate(base)) ?? 'null', contentType: 'application/json' };
  if (r < 0.62) return { body: JSON.stringify(base).slice(0, Math.floor(random() * 20)), contentType: 'application/json' }; // truncated
  if (r < 0.66) return { body: '['.repeat(20_000) + ']'.repeat(20_000), contentType: 'application/json' };
  const leaf = '{"metric":"nh3","above":1}';
  const nested = (n: number, open: string, close: string) => open.repeat(n) + leaf + close.repeat(n);
  if (r < 0.7) return { body: nested(5000, '{"all":[', ']}'), contentType: 'application/json' };
  if (r < 0.73) return { body: `{"rule":{"id":"deep","actions":[],"when":${nested(5000, '{"any":[', ']}')}}}`, contentType: 'application/json' };
  if (r < 0.74)
    return { body: `[{"id":"deep","actions":[{"alert":{"severity":"info"}}],"when":${nested(5000, '{"all":[', ']}')}}]`, contentType: 'application/json' };
  if (r < 0.76) return { body: Buffer.alloc(2 * 1024 * 1024, 'a'), contentType: 'application/json' }; // oversize
  if (r < 0.79) return { body: `{"a":"${'x'.repeat(1_100_000)}"}`, contentType: 'application/json' };
  if (r < 0.83) return { body: '\uFEFF' + JSON.stringify(base), contentType: 'application/json' };
  if (r < 0.86) return { body: '{"role":"viewer","role":"admin","password":"aaaaaaaaaaaa"}', contentType: 'application/json' };
  const contentType = pick([
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    '',
    'application/*',
    'image/png',
    'application/json;;;',
  ]);
  return {
    body: pick(['a=1&b=2', '<xml/>', JSON.stringify(base), '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--', '\u0000\u0001\u0002']),
    contentType,
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'farm-fuzz-'));
  const logger = silentLogger();
  const farm = indexFarm(config);
  const bus = new FarmBus();
  store = createSqliteStore({ dataDir, logger });
  await store.init();
  notifications = createNotifications({ config, farm, bus, logger, journalPath: join(dataDir, 'notifications.db') }, { testWaitMs: 500 });
  notifications.start();
  rules = createRulesEngine({ config, farm, bus, store, publish: async () => {}, logger, stateDir: dataDir }, { topicRoot: 'farm' });
  await rules.start();
  const ingest = createFakeIngest({ bus, farm, store });
  const herd = createHerd({ config, farm, store, bus, logger, dataDir });
  await herd.start();
  dashboard = createDashboard(
    {
      config,
      farm,
      bus,
      store,
      rules,
      notifications,
      ingest,
      herd,
      logger,
      health: async () => ({ status: 'ok', checks: {} }),
      metricsText: async () => 'farm_up 1\n',
    },
    {
      port: 0,
      host: '127.0.0.1',
      sessionTtlMs: 3_600_000,
      metricsPublic: false,
      loginRateLimit: { max: 1_000_000, timeWindowMs: 60_000 },
      usersFile: join(dataDir, 'users.json'),
    },
  );
  dashboard.app.addHook('onRoute', (r) => void routes.push(r));
  await dashboard.app.ready();
  adminToken = await login('admin', 'dev-only-admin');
}, 30_000);

afterAll(async () => {
  await dashboard?.stop();
  await rules?.stop();
  await notifications?.stop();
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function login(username: string, password: string): Promise<string> {
  const res = await dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`login as ${username} failed: ${res.statusCode} ${res.body}`);
  return res.json().token as string;
}

describe('fuzzed requests on every route', () => {
  it('get a 4xx that says what is wrong (or a 2xx when valid), never a 5xx, and the API keeps working', async () => {
    const methods = routes.flatMap((r) => [r.method].flat().map((method) => ({ method: method, route: r })));
    expect(methods.length).toBeGreaterThan(25);
    const failures: string[] = [];
    const seen = new Map<string, number>();
    const statuses = new Map<number, number>();
    const refused = new Map<string, number>();
    let requests = 0;
    for (const { method, route } of methods) {
      const key = `${method} ${route.url}`;
      const rounds = route.url.startsWith('/api/') || route.url === '/metrics' || route.url === '/health' ? 60 : 15;
      for (let i = 0; i < rounds; i++) {
        const url = `${junkPath(route)}${random() < 0.8 ? `?${junkQuery(route)}` : ''}`;
        const payload = method === 'GET' || method === 'HEAD' ? (random() < 0.1 ? junkPayload(key) : {}) : junkPayload(key);
        // Logging out or changing the admin would end the session the fuzzer uses: those routes get their own.
        const token = key === 'POST /api/logout' || key.startsWith('PUT /api/users') ? await login('admin', 'dev-only-admin') : adminToken;
        // Mostly as an admin (so the junk reaches validation and the handlers), sometimes with junk credentials.
        const r = random();
        const auth: Record<string, string> =
          r < 0.8
            ? { authorization: `Bearer ${token}` }
            : r < 0.9
              ? { authorization: pick(['Bearer ', `Bearer ${'A'.repeat(5000)}`, 'Basic YWRtaW46eA==', `bearer ${token}`, `Bearer ${token}x`]) }
              : {};
        const headers: Record<string, string> = { ...auth };
        if (payload.contentType) headers['content-type'] = payload.contentType;
        const res = await dashboard.app.inject({ method: method as 'GET', url, headers, payload: payload.body });
        requests++;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 400) refused.set(key, (refused.get(key) ?? 0) + 1);
        if (res.statusCode >= 500)
          failures.push(
            `${res.statusCode} ${method} ${url.slice(0, 160)} ${String(payload.contentType)} ${String(payload.body ?? '').slice(0, 120)} -> ${res.body.slice(0, 200)}`,
          );
        else if (res.statusCode >= 400 && method !== 'HEAD') {
          // A page (the share link's) answers a page that says why, in both languages.
          if (String(res.headers['content-type']).startsWith('text/html')) {
            if (!/expired or was revoked/.test(res.body)) failures.push(`${res.statusCode} page without a reason: ${method} ${url.slice(0, 120)}`);
            continue;
          }
          const body = (() => {
            try {
              return res.json();
            } catch {
              return undefined;
            }
          })();
          if (typeof body?.error !== 'string' || typeof body?.message !== 'string' || body.message.length < 10)
            failures.push(`${res.statusCode} without a reason: ${method} ${url.slice(0, 120)} -> ${res.body.slice(0, 200)}`);
        }
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(requests).toBeGreaterThan(1500);
    console.log('fuzz answers by status:', Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])));
    // The junk reached validation (not only the login check) on every route that takes input, and some was valid.
    for (const { method, route } of methods) {
      const schema = route.schema;
      if (method !== 'HEAD' && (schema?.body || schema?.querystring || schema?.params))
        expect(refused.get(`${method} ${route.url}`), `400s of ${method} ${route.url}`).toBeGreaterThan(0);
    }
    expect([...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0)).toBeGreaterThan(50);
    for (const { method, route } of methods) expect(seen.get(`${method} ${route.url}`), `${method} ${route.url}`).toBeGreaterThan(0);

    const sites = await dashboard.app.inject({ url: '/api/sites', headers: { authorization: `Bearer ${adminToken}` } });
    expect(sites.statusCode).toBe(200);
    expect(sites.json().sites).toHaveLength(config.sites.length);
    const fresh = await dashboard.app.inject({
      method: 'PUT',
      url: '/api/rules',
      payload: config.rules as unknown as object,
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(fresh.statusCode).toBe(200);
  }, 120_000);
});
