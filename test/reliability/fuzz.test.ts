import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/ports.js';
import { connectPacket, packet, rawSocket, socketClosed } from '../helpers/raw-mqtt.js';
import type { RejectReason } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { loadFarmConfig } from '../../core/config/load.js';

/**
 * Over 100,000 generated bad messages over real MQTT connections, mixed with valid readings: afterwards every
 * valid reading is stored, no invalid one is, the per-reason counters match what was sent, memory settles.
 */
v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

type Bad = { reason: RejectReason; payload: string | Buffer };
function badMessage(r: () => number, now: number): Bad {
  const pick = Math.floor(r() * 9);
  const good = JSON.stringify({ ts: now - 1000, metrics: { nh3: 5, temperature: 20 } });
  switch (pick) {
    case 0: return { reason: 'malformed_json', payload: Buffer.from([1, ...Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256))]) };
    case 1: return { reason: 'malformed_json', payload: good.slice(0, 1 + Math.floor(r() * (good.length - 2))) };
    case 2: { const depth = 100 + Math.floor(r() * 5000); return { reason: 'schema', payload: '['.repeat(depth) + ']'.repeat(depth) }; }
    case 3: return { reason: 'out_of_range', payload: `{"metrics":{"nh3":${r() < 0.5 ? '' : '-'}1e${309 + Math.floor(r() * 50)}}}` };
    case 4: return { reason: 'schema', payload: JSON.stringify({ metrics: { nh3: ['NaN', 'Infinity', '-Infinity', '12'][Math.floor(r() * 4)] } }) };
    case 5: return { reason: 'schema', payload: [`{"metrics":[1,2]}`, `{"ts":true,"metrics":{"nh3":1}}`, `{"metrics":null}`, `"text"`, `null`, `{"readings":"all"}`][Math.floor(r() * 6)] };
    case 6: return { reason: 'unknown_metric', payload: JSON.stringify({ metrics: { [`m${Math.floor(r() * 1e6)}`]: 1 } }) };
    case 7: return { reason: 'out_of_range', payload: JSON.stringify({ metrics: { nh3: 501 + r() * 1e6 } }) };
    default: return { reason: 'future_timestamp', payload: JSON.stringify({ ts: now + 3_600_000 + Math.floor(r() * 1e9), metrics: { nh3: 5 } }) };
  }
}

const config = loadFarmConfig('config/demo-farm.yaml');
const sheds = indexFarm(config).devices().filter((d) => d.kind === 'shed' && d.role === 'sensor');
const pipes = indexFarm(config).devices().filter((d) => d.zone.startsWith('pipe-'));
const devices = [...sheds, ...pipes].slice(0, 10);
let svc: Awaited<ReturnType<typeof startTestService>>;

beforeAll(async () => {
  // Rate and reconnect limits have their own tests (broker-abuse, connection-limits); here they would only get in the way.
  svc = await startTestService({ config, env: { MQTT_RATE_LIMIT: '1000000', MQTT_RATE_BURST: '1000000', MQTT_MAX_CONNECTS_PER_MINUTE: '100000' } });
});
afterAll(() => svc?.cleanup());

describe('fuzzing the ingest path over real MQTT', () => {
  it('survives 100,000+ bad messages, stores every valid reading and nothing else, counts each reason', async () => {
    const expected: Partial<Record<RejectReason, number>> = {};
    const count = (reason: RejectReason, n = 1) => (expected[reason] = (expected[reason] ?? 0) + n);
    const start = Date.now() - 3_600_000;
    const valid = new Map<string, number[]>();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;

    await Promise.all(devices.map(async (d, di) => {
      const r = rng(di + 1);
      const client = await connectDevice(svc.mqttPort, d.device, d.config.secret!);
      const topic = `farm/${d.site}/${d.zone}/${d.device}/telemetry`;
      const tsList: number[] = [];
      for (let i = 0; i < 10_000; i++) {
        const bad = badMessage(r, Date.now());
        // Drain-zone sensors get shed metrics in some cases: that is an unknown metric for them, not out of range.
        const reason = d.kind === 'drain' && (bad.reason === 'out_of_range' || bad.reason === 'future_timestamp') && String(bad.payload).includes('nh3') ? 'unknown_metric' : bad.reason;
        count(reason);
        client.publish(topic, bad.payload, { qos: 0 });
        if (i % 100 === 0) {
          const ts = start + di * 100_000 + i;
          tsList.push(ts);
          const metrics = d.kind === 'shed' ? { nh3: 10, temperature: 18 } : { fill: 30, water_level: 0.3, flow: 12 };
          await client.publishAsync(topic, JSON.stringify({ ts, metrics }), { qos: 1 });
        }
      }
      valid.set(d.device, tsList);
      for (let i = 0; i < 10; i++) {
        client.publish(topic, JSON.stringify({ metrics: { nh3: 1 }, pad: 'x'.repeat(70_000) }), { qos: 0 });
        count('oversize');
      }
      await endClient(client);
    }));

    // forged topics: another device's topic, control characters; wildcards straight on a raw socket
    const [a, b] = sheds;
    for (let i = 0; i < 40; i++) {
      const client = await connectDevice(svc.mqttPort, a.device, a.config.secret!);
      const topic = i % 2 ? `farm/${b.site}/${b.zone}/${b.device}/telemetry` : `farm/${a.site}/${a.zone}/${a.device}\u0001${i}/telemetry`;
      client.publish(topic, JSON.stringify({ metrics: { nh3: 1 } }), { qos: 0 });
      await new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.end(true);
      count('unauthorised_topic');
    }
    for (const topic of [`farm/${a.site}/+/${a.device}/telemetry`, `farm/#`, `farm/${a.site}/${a.zone}/${a.device}/#`]) {
      const socket = await rawSocket(svc.mqttPort);
      socket.write(connectPacket(a.device, a.device, a.config.secret!));
      socket.write(packet({ cmd: 'publish', topic, payload: Buffer.from('{"metrics":{"nh3":1}}'), qos: 0, retain: false, dup: false }));
      expect(await socketClosed(socket)).toBe(true);
      count('unauthorised_topic');
    }

    const total = Object.values(expected).reduce((s, n) => s + n, 0);
    expect(total).toBeGreaterThanOrEqual(100_000);
    await waitFor(() => Object.values(svc.ingest.stats().rejected).reduce((s, n) => s + n, 0) >= total || undefined, 'all rejects counted', 60_000);
    const counted = Object.fromEntries(Object.entries(svc.ingest.stats().rejected).filter(([, n]) => n > 0));
    expect(counted).toEqual(expected);

    for (const d of devices) {
      const points = await svc.store.raw({ device: d.device, from: 0, to: Date.now() + 1e10, limit: 100_000 });
      const tsStored = [...new Set(points.map((p) => p.ts))].sort((x, y) => x - y);
      expect(tsStored, d.device).toEqual(valid.get(d.device));
    }
    expect(svc.ingest.stats().accepted).toBe(1000);

    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    expect(heapAfter - heapBefore).toBeLessThan(64 * 1024 * 1024);
  }, 120_000); // ~15 s on an idle machine; the limit leaves room for a busy shared one
});
