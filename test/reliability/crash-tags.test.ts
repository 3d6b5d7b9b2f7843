import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { influxql, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { DEMO_CONFIG } from '../helpers/service.js';
import { report } from './report.js';

/**
 * kill -9 of the real service process while shed-1's gate reader counts its flock in and out (QoS 1, persistent
 * session, reconnecting by itself): every tag read the reader got a PUBACK for is stored exactly once, in the
 * embedded store and in InfluxDB (through the outbox, also while InfluxDB is stopped), and after each restart
 * the head count and every sheep's place are what the reads say.
 */
const register = loadFarmConfig(DEMO_CONFIG).animals.register;
const shed1 = register.filter((a) => a.zone === 'shed-1').map((a) => a.tag);
const dataDir = mkdtempSync(join(tmpdir(), 'farm-crash-tags-'));
let influxd: Influxd;
let proc: ServiceProcess | undefined;
let reader: MqttClient | undefined;

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await reader?.endAsync(true).catch(() => {});
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  await influxd?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function service(name: string, extra: Record<string, string> = {}) {
  const ports = await servicePorts();
  const env = { ...ports, DATA_DIR: join(dataDir, name), ...extra };
  const httpPort = Number(ports.HTTP_PORT);
  let token = '';
  const api = async (path: string) => {
    if (!token) {
      const res = await fetch(`http://127.0.0.1:${httpPort}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'viewer', password: 'dev-only-viewer' }),
      });
      token = ((await res.json()) as { token: string }).token;
    }
    return (await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();
  };
  return {
    mqttPort: Number(ports.MQTT_PORT),
    api,
    shed1: async () => (await api('/api/sites/huyang')).zones.find((z: { id: string }) => z.id === 'shed-1') as { headCount: number; animalsOut: number },
    async start() {
      proc = spawnService(env);
      await waitHealthy(httpPort, proc);
      token = '';
    },
    async kill9() {
      proc!.child.kill('SIGKILL');
      await proc!.exited;
    },
    async sigterm() {
      proc!.child.kill('SIGTERM');
      expect((await proc!.exited).code).toBe(0);
    },
  };
}

/** The gate reader: a persistent session that keeps reconnecting while the service restarts; QoS 1 in flight is resent. */
async function gate(port: number): Promise<MqttClient> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: 'shed-1-gate',
    username: 'shed-1-gate',
    password: 'dev-only-shed-1-gate',
    clean: false,
    reconnectPeriod: 200,
    connectTimeout: 3000,
  });
  c.on('error', () => {});
  await new Promise<void>((resolve) => c.once('connect', () => resolve()));
  return c;
}

type Sent = { ts: number; tags: string[]; direction: 'in' | 'out' };

/** Sends the flock through the gate 8 sheep a message; `onAcked(n)` after each PUBACK, so a test can kill mid-way. */
async function pass(
  c: MqttClient,
  tags: string[],
  direction: 'in' | 'out',
  base: number,
  acked: Sent[],
  onAcked?: (n: number) => Promise<void>,
): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = 0; i < tags.length; i += 8) {
    const msg: Sent = { ts: base + i * 100, tags: tags.slice(i, i + 8), direction };
    pending.push(
      c.publishAsync('farm/huyang/shed-1/shed-1-gate/tags', JSON.stringify(msg), { qos: 1 }).then(async () => {
        acked.push(msg);
        await onAcked?.(acked.length);
      }),
    );
    // A few in flight at a time, like a reader's queue.
    if (pending.length >= 4) await pending.shift();
  }
  await Promise.all(pending);
}

describe('tag reads across kill -9', () => {
  it('embedded store: every acknowledged read stored once, and head counts rebuilt after each restart', async () => {
    const svc = await service('embedded');
    await svc.start();
    reader = await gate(svc.mqttPort);
    const acked: Sent[] = [];
    const base = Date.now() - 3_600_000;
    let killed = false;
    // Kill -9 while the flock is still coming in; the reader resends what was not acknowledged.
    await pass(reader, shed1, 'in', base, acked, async (n) => {
      if (n !== 15 || killed) return;
      killed = true;
      await svc.kill9();
      await svc.start();
    });
    expect(await svc.shed1()).toMatchObject({ headCount: 320, animalsOut: 0 });
    await pass(reader, shed1.slice(0, 100), 'out', base + 600_000, acked);
    await svc.kill9();
    await svc.start();
    expect(await svc.shed1()).toMatchObject({ headCount: 220, animalsOut: 100 });
    expect((await svc.api(`/api/animals/${shed1[5]}`)).animal).toMatchObject({ location: 'out', zone: 'shed-1' });
    expect((await svc.api(`/api/animals/${shed1[200]}`)).animal).toMatchObject({ location: 'in', zone: 'shed-1' });
    await reader.endAsync();
    reader = undefined;
    await svc.sigterm();

    const store = createSqliteStore({ dataDir: join(dataDir, 'embedded'), logger: silentLogger() });
    await store.init();
    const rows = await store.tagReads({ device: 'shed-1-gate', from: base - 1, to: base + 3_600_000, limit: 10_000 });
    await store.close();
    const key = (tag: string, ts: number) => `${tag}@${ts}`;
    const stored = rows.map((r) => key(r.tag, r.ts));
    const expected = acked.flatMap((m) => m.tags.map((t) => key(t, m.ts)));
    expect(new Set(stored).size).toBe(stored.length); // none twice
    expect(expected.filter((k) => !stored.includes(k))).toEqual([]);
    expect(stored).toHaveLength(420);
    report('crash-tags-embedded', { kills: 2, acknowledgedReads: expected.length, stored: stored.length });
  }, 300_000);

  it('InfluxDB: reads taken while InfluxDB is stopped survive kill -9 in the outbox and reach InfluxDB once', async () => {
    const svc = await service('influx', { INFLUX_URL: influxd.url, INFLUX_DATABASE: 'tags', INFLUX_TIMEOUT: '2s' });
    await svc.start();
    reader = await gate(svc.mqttPort);
    const acked: Sent[] = [];
    const base = Date.now() - 3_600_000;
    await pass(reader, shed1.slice(0, 160), 'in', base, acked);
    await influxd.pause();
    await pass(reader, shed1.slice(160), 'in', base + 16_000, acked);
    await svc.kill9();
    await influxd.resume();
    await svc.start();
    // The outbox is sent before start-up completes: the herd is rebuilt from all 320 reads.
    expect(await svc.shed1()).toMatchObject({ headCount: 320 });
    await reader.endAsync();
    reader = undefined;
    await svc.sigterm();
    const [result] = await influxql(influxd.url, 'SELECT count("direction") FROM "tag_read"', { db: 'tags' });
    expect(result.series?.[0].values[0][1]).toBe(320);
    report('crash-tags-influx', { acknowledgedReads: acked.reduce((n, m) => n + m.tags.length, 0), storedInInflux: 320 });
  }, 300_000);
});
