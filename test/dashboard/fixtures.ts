import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FarmConfig, type FarmConfigT } from '../../core/config/schema.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createDashboard, type DashboardDeps, type DashboardOptions } from '../../dashboard/server.js';
import { createNotifications, type Notifications } from '../../notifications/notifications.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { createHerd, type Herd } from '../../animals/herd.js';
import type { Store } from '../../store/store.js';
import { createFakeIngest, createFakeRules, type FakeIngest, type FakeRules } from './fakes.js';

/** Dev passwords of the test users (plain, as the farm file allows for development). */
export const PASSWORDS = { viewer: 'viewer-password', operator: 'operator-password', admin: 'admin-password' } as const;
export type TestRole = keyof typeof PASSWORDS;

/** The test farm's register: three sheep of shed-1. */
export const TAGS = { ewe: '982000000000001', ram: '982000000000002', lamb: '982000000000003', stray: '982000000000999' } as const;

/** A small farm: one lake-sheep site with a shed and a field, one drainage site with two pipes and a rain gauge. */
export function testFarmConfig(extra: Partial<{ users: unknown[]; rules: unknown[]; channelUrl: string }> = {}): FarmConfigT {
  return FarmConfig.parse({
    sites: [
      {
        id: 'huyang',
        name: 'Huyang lake-sheep farm',
        zones: [
          {
            id: 'shed-1',
            name: 'Shed 1',
            kind: 'shed',
            devices: [
              { id: 'shed-1-env', role: 'sensor', secret: 'dev-only-secret-1', metrics: ['temperature', 'humidity', 'nh3'] },
              { id: 'shed-1-fan', role: 'actuator', type: 'fan', secretHash: 'scrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==' },
              { id: 'shed-1-spray', role: 'actuator', type: 'spray' },
              { id: 'shed-1-shutter', role: 'actuator', type: 'shutter' },
              { id: 'shed-1-gate', role: 'reader', secret: 'dev-only-secret-gate' },
            ],
            attributes: { headCount: 3 },
          },
          {
            id: 'field-1',
            name: 'North field',
            kind: 'field',
            devices: [{ id: 'field-1-soil', role: 'sensor', metrics: ['soil_moisture', 'soil_temperature'] }],
          },
        ],
      },
      {
        id: 'city',
        name: 'City drainage',
        zones: [
          { id: 'pipe-a', name: 'Pipe A', kind: 'drain', devices: [{ id: 'pipe-a-level', role: 'sensor', metrics: ['fill', 'water_level'] }] },
          { id: 'pipe-b', name: 'Pipe B', kind: 'drain', devices: [{ id: 'pipe-b-level', role: 'sensor', metrics: ['fill', 'water_level'] }] },
          { id: 'rain-1', name: 'Rain gauge 1', kind: 'drain', devices: [{ id: 'rain-1-gauge', role: 'sensor', metrics: ['rain_mm'] }] },
        ],
      },
    ],
    animals: {
      missingAfter: '24h',
      register: [
        { tag: TAGS.ewe, group: 'ewes', born: '2025-03-02', sex: 'f', zone: 'shed-1' },
        { tag: TAGS.ram, group: 'rams', born: '2024-04-11', sex: 'm', zone: 'shed-1' },
        { tag: TAGS.lamb, group: 'lambs', born: '2026-01-20', sex: 'f', zone: 'shed-1' },
      ],
    },
    // Nothing listens on port 9 (discard) unless a test gives a receiver: deliveries there are retried.
    channels: [{ id: 'duty-hook', type: 'webhook', url: extra.channelUrl ?? 'http://127.0.0.1:9/hook' }],
    notifications: [{ match: { site: 'city' }, channels: ['duty-hook'] }],
    users: extra.users ?? [
      { name: 'vera', role: 'viewer', password: PASSWORDS.viewer },
      { name: 'otto', role: 'operator', password: PASSWORDS.operator },
      { name: 'ada', role: 'admin', password: PASSWORDS.admin },
    ],
    rules: extra.rules ?? [
      {
        id: 'shed-ammonia',
        scope: { kind: 'shed' },
        when: { metric: 'nh3', above: 20, for: '30s', clearBelow: 15 },
        actions: [{ actuate: { type: 'fan', action: 'on' } }, { alert: { severity: 'warning', message: 'Ammonia {value} ppm in {zone}' } }],
      },
      {
        id: 'pipe-fill',
        scope: { kind: 'drain' },
        when: {
          metric: 'fill',
          levels: [
            { name: 'yellow', above: 50 },
            { name: 'orange', above: 70, severity: 'warning' },
            { name: 'red', above: 85, severity: 'critical' },
          ],
        },
        actions: [{ alert: { severity: 'info' } }],
      },
    ],
  });
}

export const USER_NAMES: Record<TestRole, string> = { viewer: 'vera', operator: 'otto', admin: 'ada' };

export interface TestDashboard {
  deps: DashboardDeps;
  bus: FarmBus;
  /** The real embedded store (SQLite) in a temporary directory, which also holds access.db (sessions, audit ...). */
  store: Store;
  herd: Herd;
  dataDir: string;
  rules: FakeRules;
  ingest: FakeIngest;
  dashboard: ReturnType<typeof createDashboard>;
  /** The real notifications component (journal in memory), fed by the fake rules' alerts. */
  notifications: Notifications;
  clock: { now: number; advance(ms: number): void; real: boolean };
  /** Logs in over the API and answers the bearer token. */
  token(role: TestRole): Promise<string>;
  auth(role: TestRole): Promise<{ authorization: string }>;
  /** Stops the dashboard, closes the store and removes its directory. */
  close(): Promise<void>;
}

/**
 * The real dashboard server on the real embedded store, with the rules engine and ingest replaced by the
 * stand-ins of fakes.ts: they make alerts, commands and acknowledgements happen on cue, which the HTTP and
 * socket tests need. The real engine and ingest behind the same page run in e2e-service.test.ts.
 */
export async function buildTestDashboard(
  options: Partial<DashboardOptions> = {},
  extra: { config?: FarmConfigT; fakeClock?: boolean; ackDelayMs?: number; health?: DashboardDeps['health'] } = {},
): Promise<TestDashboard> {
  const config = extra.config ?? testFarmConfig();
  const farm = indexFarm(config);
  const bus = new FarmBus();
  const dataDir = mkdtempSync(join(tmpdir(), 'farm-dashboard-'));
  const store = createSqliteStore({ dataDir, logger: silentLogger() });
  await store.init();
  const clock = {
    now: Date.parse('2024-11-22T10:00:00Z'),
    real: !extra.fakeClock,
    advance(ms: number) {
      this.now += ms;
    },
  };
  const now = () => (clock.real ? Date.now() : clock.now);
  const rules = createFakeRules({ bus, farm, config, now, ackDelayMs: extra.ackDelayMs ?? 50 });
  const ingest = createFakeIngest({ bus, farm, store });
  const herd = createHerd({ config, farm, store, bus, logger: silentLogger(), clock: { now }, dataDir });
  await herd.start();
  const notifications = createNotifications(
    {
      config,
      farm,
      bus,
      logger: silentLogger(),
      clock: { now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    },
    { group: { waitMs: 100, intervalMs: 500 }, tickMs: 50, attemptTimeoutMs: 1000, testWaitMs: 2000, publicUrl: 'http://farm.test' },
  );
  notifications.start();
  const deps: DashboardDeps = {
    config,
    farm,
    bus,
    store,
    rules,
    notifications,
    ingest,
    herd,
    logger: silentLogger(),
    health: extra.health ?? (async () => ({ status: 'ok', checks: { store: 'ok' } })),
    metricsText: async () => '# HELP farm_readings_total Readings stored\n# TYPE farm_readings_total counter\nfarm_readings_total 3\n',
    now,
  };
  const dashboard = createDashboard(deps, { port: 0, host: '127.0.0.1', sessionTtlMs: 3_600_000, metricsPublic: true, dataDir, ...options });
  const tokens = new Map<TestRole, string>();
  async function token(role: TestRole): Promise<string> {
    const cached = tokens.get(role);
    if (cached) return cached;
    const res = await dashboard.app.inject({ method: 'POST', url: '/api/login', payload: { username: USER_NAMES[role], password: PASSWORDS[role] } });
    if (res.statusCode !== 200) throw new Error(`login as ${role} failed: ${res.statusCode} ${res.body}`);
    const t = res.json().token as string;
    tokens.set(role, t);
    return t;
  }
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await dashboard.stop();
      herd.stop();
      await notifications.stop();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    })());
  return {
    deps,
    bus,
    store,
    dataDir,
    herd,
    rules,
    ingest,
    dashboard,
    notifications,
    clock,
    token,
    auth: async (role) => ({ authorization: `Bearer ${await token(role)}` }),
    close,
  };
}

/** History for charts and the drainage view: `hours` of readings every `stepMin` minutes ending at `end`. */
export async function seedHistory(t: TestDashboard, end: number, hours = 24, stepMin = 10): Promise<void> {
  const readings = [];
  for (let ts = end - hours * 3_600_000; ts <= end; ts += stepMin * 60_000) {
    const phase = (ts / 3_600_000) % 24;
    readings.push(
      {
        site: 'huyang',
        zone: 'shed-1',
        kind: 'shed' as const,
        device: 'shed-1-env',
        ts,
        metrics: { temperature: 18 + 6 * Math.sin(phase / 4), humidity: 65, nh3: 8 + (phase % 5) },
      },
      { site: 'huyang', zone: 'field-1', kind: 'field' as const, device: 'field-1-soil', ts, metrics: { soil_moisture: 31, soil_temperature: 12.5 } },
      { site: 'city', zone: 'pipe-a', kind: 'drain' as const, device: 'pipe-a-level', ts, metrics: { fill: 62 + (phase % 3), water_level: 0.6 } },
      { site: 'city', zone: 'pipe-b', kind: 'drain' as const, device: 'pipe-b-level', ts, metrics: { fill: 20 + (phase % 4), water_level: 0.2 } },
      { site: 'city', zone: 'rain-1', kind: 'drain' as const, device: 'rain-1-gauge', ts, metrics: { rain_mm: 0 } },
    );
  }
  await t.store.writeReadings(readings);
}

/** Gate reads through shed-1's gate, stored and given to the herd as ingest would. */
export async function seedTagReads(t: TestDashboard, reads: { tag: string; ts: number; direction: 'in' | 'out' }[]): Promise<void> {
  const full = reads.map((r) => ({ site: 'huyang', zone: 'shed-1', kind: 'shed' as const, device: 'shed-1-gate', ...r }));
  await t.store.writeTagReads(full);
  t.bus.emit('tagReads', full);
}
