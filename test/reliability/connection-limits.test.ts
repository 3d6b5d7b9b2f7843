import { connect, type Socket } from 'node:net';
import { MqttClient, type IClientOptions } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/ports.js';
import { socketClosed } from '../helpers/raw-mqtt.js';
import { startTestService } from '../helpers/service.js';
import { startFlow } from './flow.js';
import { report } from './report.js';

/**
 * Connection limits per address and per device, over real TCP from distinct loopback addresses (127.0.0.2 … are
 * separate source addresses on Linux): a device in a reconnect loop, a device opening many connections, an address
 * holding unauthenticated sockets, an address guessing a secret. Each time the others keep being served.
 */
const BAN_MS = 5000;
let svc: Awaited<ReturnType<typeof startTestService>>;
beforeAll(async () => {
  svc = await startTestService({
    env: {
      MQTT_MAX_PENDING_PER_ADDRESS: '8',
      MQTT_MAX_CONNECTIONS_PER_DEVICE: '2',
      MQTT_MAX_CONNECTS_PER_MINUTE: '20',
      MQTT_MAX_AUTH_FAILURES_PER_MINUTE: '5',
      MQTT_BAN: `${BAN_MS}ms`,
    },
  });
});
afterAll(() => svc?.cleanup());

const secret = (id: string) => `dev-only-${id}`;

/** An MQTT client whose TCP connection comes from `from` (a loopback address). */
function clientFrom(from: string, username: string, password: string, extra: IClientOptions = {}): MqttClient {
  const client = new MqttClient(() => connect({ host: '127.0.0.1', port: svc.mqttPort, localAddress: from }), {
    clientId: username,
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    protocolVersion: 4,
    ...extra,
  });
  client.on('error', () => {});
  return client;
}

/** Connects and reports the CONNACK: connected, or the refusal's return code. */
function attempt(from: string, username: string, password: string, extra: IClientOptions = {}) {
  const client = clientFrom(from, username, password, extra);
  return new Promise<{ connected: boolean; code?: number; client: MqttClient }>((resolve) => {
    client.once('connect', () => resolve({ connected: true, client }));
    client.once('error', (err: Error & { code?: number }) => resolve({ connected: false, code: err.code, client }));
    client.once('close', () => resolve({ connected: false, client }));
  });
}

async function refusedCount(reason: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${svc.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`farm_mqtt_connections_refused_total{reason="${reason}"}`));
  return line ? Number(line.split(' ')[1]) : 0;
}

function rawFrom(from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: svc.mqttPort, localAddress: from });
    s.on('error', () => {});
    s.resume();
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('connection limits', () => {
  it('refuses a device reconnecting in a tight loop for a while, and another device keeps publishing meanwhile', async () => {
    const other = await startFlow(svc.mqttPort, [{ id: 'shed-2-env', secret: secret('shed-2-env'), topic: 'farm/huyang/shed-2/shed-2-env/telemetry' }], {
      intervalMs: 20,
      base: Date.now() - 600_000,
    });
    let connects = 0;
    let refusedWith: number | undefined;
    const loopStarted = Date.now();
    for (let i = 0; i < 200 && refusedWith === undefined; i++) {
      const r = await attempt('127.0.0.2', 'shed-1-env', secret('shed-1-env'));
      if (r.connected) connects++;
      else refusedWith = r.code;
      await r.client.endAsync(true);
    }
    expect(connects).toBe(20); // the 21st connect within a minute is one too many
    expect(refusedWith).toBe(3); // "server unavailable": the credentials are fine, try later
    // While banned, even from another address, the device is refused before its secret is checked.
    let refusedInLoop = 0;
    let tries = 0;
    const until = Date.now() + 1000;
    while (Date.now() < until || tries < 3) {
      tries++;
      const r = await attempt('127.0.0.3', 'shed-1-env', secret('shed-1-env'));
      if (!r.connected && r.code === 3) refusedInLoop++;
      await r.client.endAsync(true);
    }
    expect(refusedInLoop).toBe(tries);
    expect(await refusedCount('flapping')).toBeGreaterThan(refusedInLoop);
    // The ban runs out.
    const back = await waitFor(
      async () => {
        const r = await attempt('127.0.0.2', 'shed-1-env', secret('shed-1-env'));
        if (r.connected) return r.client;
        await r.client.endAsync(true);
        return undefined;
      },
      'the device to be let in again after its ban',
      BAN_MS + 10_000,
      250,
    );
    const bannedForMs = Date.now() - loopStarted;
    await back.endAsync();

    await other.stop();
    await other.close();
    const acked = other.acked('shed-2-env');
    expect(acked.size).toBe(other.sent('shed-2-env').length);
    const stored = new Set((await svc.store.raw({ device: 'shed-2-env', metric: 'nh3', from: 0, to: Date.now(), limit: 1e6 })).map((p) => p.ts));
    expect([...acked].filter((ts) => !stored.has(ts))).toEqual([]);
    report('connection-flapping', { connectsBeforeBan: connects, refusedDuringBanIn1s: refusedInLoop, otherDeviceReadingsStored: acked.size, bannedForMs });
  });

  it('keeps only the newest two connections of a device that opens more', async () => {
    const clients: MqttClient[] = [];
    for (const suffix of ['a', 'b', 'c', 'd', 'e']) {
      const r = await attempt('127.0.0.4', 'shed-3-env', secret('shed-3-env'), { clientId: `shed-3-env/${suffix}` });
      expect(r.connected).toBe(true);
      clients.push(r.client);
    }
    await waitFor(() => clients.slice(0, 3).every((c) => !c.connected) || undefined, 'the three oldest connections to be closed');
    expect(clients.slice(3).map((c) => c.connected)).toEqual([true, true]);
    const ts = Date.now() - 1000;
    await clients[4].publishAsync('farm/huyang/shed-3/shed-3-env/telemetry', JSON.stringify({ ts, metrics: { nh3: 3 } }), { qos: 1 });
    expect(await svc.store.raw({ device: 'shed-3-env', metric: 'nh3', from: ts, to: ts + 1 })).toHaveLength(1);
    expect(await refusedCount('device_limit')).toBe(3);
    await Promise.all(clients.map((c) => c.endAsync(true)));
  });

  it('closes unauthenticated sockets beyond the cap of one address at once, while other addresses connect', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => rawFrom('127.0.0.5')));
    const extra = await rawFrom('127.0.0.5');
    expect(await socketClosed(extra, 2000)).toBe(true);
    expect(held.every((s) => !s.destroyed)).toBe(true);
    const device = await attempt('127.0.0.1', 'shed-4-env', secret('shed-4-env'));
    expect(device.connected).toBe(true);
    await device.client.endAsync();
    expect(await refusedCount('pending_limit')).toBeGreaterThanOrEqual(1);
    for (const s of held) s.destroy();
    const again = await waitFor(async () => {
      const r = await attempt('127.0.0.5', 'shed-4-env', secret('shed-4-env'));
      if (r.connected) return r.client;
      await r.client.endAsync(true);
      return undefined;
    }, 'the address to be let in once its sockets are gone');
    await again.endAsync();
  });

  it('refuses a device name from an address that guessed its secret too often, but not the device from its own address', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await attempt('127.0.0.6', 'shed-1-fan', `guess-${i}`);
      expect(r.code).toBe(4);
      await r.client.endAsync(true);
    }
    const right = await attempt('127.0.0.6', 'shed-1-fan', secret('shed-1-fan'));
    expect(right).toMatchObject({ connected: false, code: 3 }); // banned: the right secret is not even checked
    await right.client.endAsync(true);
    const own = await attempt('127.0.0.7', 'shed-1-fan', secret('shed-1-fan'));
    expect(own.connected).toBe(true);
    await own.client.endAsync();
    expect(await refusedCount('auth_failures')).toBeGreaterThanOrEqual(1);
    const later = await waitFor(
      async () => {
        const r = await attempt('127.0.0.6', 'shed-1-fan', secret('shed-1-fan'));
        if (r.connected) return r.client;
        await r.client.endAsync(true);
        return undefined;
      },
      'the ban to run out',
      BAN_MS + 10_000,
      250,
    );
    await later.endAsync();
  });
});
