import v8 from 'node:v8';
import fc from 'fast-check';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/ports.js';
import { connackCode, connectPacket, fixedHeader, packet, rawSocket, socketClosed, streamZeros } from '../helpers/raw-mqtt.js';
import { anyTimestampText, expectedVerdict } from '../helpers/timestamps.js';
import { MAX_CONNECT_BYTES, MQTT_MAX_REMAINING_LENGTH, PUBLISH_OVERHEAD_BYTES } from '../../broker/packet-size.js';
import type { RejectReason } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { loadFarmConfig } from '../../core/config/load.js';

/**
 * Over 100,000 generated bad messages over real MQTT connections, mixed with valid readings: afterwards every
 * valid reading is stored, no invalid one is, the per-reason counters match what was sent, memory settles.
 * Then MQTT packets announcing arbitrary lengths, before and after login (process memory stays bounded), and
 * timestamps generated over the whole number line in batches (the batch's valid readings are stored).
 */
v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

type Bad = { reason: RejectReason; payload: string | Buffer };
function badMessage(r: () => number, now: number): Bad {
  const pick = Math.floor(r() * 9);
  const good = JSON.stringify({ ts: now - 1000, metrics: { nh3: 5, temperature: 20 } });
  switch (pick) {
    case 0:
      return { reason: 'malformed_json', payload: Buffer.from([1, ...Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256))]) };
    case 1:
      return { reason: 'malformed_json', payload: good.slice(0, 1 + Math.floor(r() * (good.length - 2))) };
    case 2: {
      const depth = 100 + Math.floor(r() * 5000);
      return { reason: 'schema', payload: '['.repeat(depth) + ']'.repeat(depth) };
    }
    case 3:
      return { reason: 'out_of_range', payload: `{"metrics":{"nh3":${r() < 0.5 ? '' : '-'}1e${309 + Math.floor(r() * 50)}}}` };
    case 4:
      return { reason: 'schema', payload: JSON.stringify({ metrics: { nh3: ['NaN', 'Infinity', '-Infinity', '12'][Math.floor(r() * 4)] } }) };
    case 5:
      return {
        reason: 'schema',
        payload: [`{"metrics":[1,2]}`, `{"ts":true,"metrics":{"nh3":1}}`, `{"metrics":null}`, `"text"`, `null`, `{"readings":"all"}`][Math.floor(r() * 6)],
      };
    case 6:
      return { reason: 'unknown_metric', payload: JSON.stringify({ metrics: { [`m${Math.floor(r() * 1e6)}`]: 1 } }) };
    case 7:
      return { reason: 'out_of_range', payload: JSON.stringify({ metrics: { nh3: 501 + r() * 1e6 } }) };
    default:
      return { reason: 'future_timestamp', payload: JSON.stringify({ ts: now + 3_600_000 + Math.floor(r() * 1e9), metrics: { nh3: 5 } }) };
  }
}

const config = loadFarmConfig('config/demo-farm.yaml');
const sheds = indexFarm(config)
  .devices()
  .filter((d) => d.kind === 'shed' && d.role === 'sensor');
const pipes = indexFarm(config)
  .devices()
  .filter((d) => d.zone.startsWith('pipe-'));
const devices = [...sheds, ...pipes].slice(0, 10);
let svc: Awaited<ReturnType<typeof startTestService>>;

beforeAll(async () => {
  // Rate and reconnect limits have their own tests (broker-abuse, connection-limits); here they would only get in the way.
  // A CONNECT deadline far beyond the 5 s a refused packet's socket is given to close, so that only the refusal closes it.
  svc = await startTestService({
    config,
    env: { MQTT_RATE_LIMIT: '1000000', MQTT_RATE_BURST: '1000000', MQTT_MAX_CONNECTS_PER_MINUTE: '100000', MQTT_CONNECT_TIMEOUT: '60s' },
  });
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

    await Promise.all(
      devices.map(async (d, di) => {
        const r = rng(di + 1);
        const client = await connectDevice(svc.mqttPort, d.device, d.config.secret!);
        const topic = `farm/${d.site}/${d.zone}/${d.device}/telemetry`;
        const tsList: number[] = [];
        for (let i = 0; i < 10_000; i++) {
          const bad = badMessage(r, Date.now());
          // Drain-zone sensors get shed metrics in some cases: that is an unknown metric for them, not out of range.
          const reason =
            d.kind === 'drain' && (bad.reason === 'out_of_range' || bad.reason === 'future_timestamp') && String(bad.payload).includes('nh3')
              ? 'unknown_metric'
              : bad.reason;
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
        // Over MAX_PAYLOAD_BYTES (64 KiB) but within what the broker reads (plus topic and header): ingest rejects it,
        // the connection stays. Larger ones are refused at the packet header (the next test).
        for (let i = 0; i < 10; i++) {
          client.publish(topic, JSON.stringify({ metrics: { nh3: 1 }, pad: 'x'.repeat(65_600) }), { qos: 0 });
          count('oversize');
        }
        await endClient(client);
      }),
    );

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

  it('refuses every packet announced over its limit at its header, before login or after, and memory stays bounded', async () => {
    const deviceLimit = svc.env.MAX_PAYLOAD_BYTES + PUBLISH_OVERHEAD_BYTES;
    const device = indexFarm(config).device('field-2-soil')!;
    const oversize = async () => (await svc.metrics.oversizePackets.get()).values.reduce((n, v) => n + v.value, 0);
    gc();
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    let refusedRuns = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          loggedIn: fc.boolean(),
          type: fc.integer({ min: 0, max: 15 }),
          flags: fc.integer({ min: 0, max: 15 }),
          // Anything MQTT can announce, and often lengths around the limits.
          announced: fc.oneof(
            fc.integer({ min: 0, max: MQTT_MAX_REMAINING_LENGTH }),
            fc.integer({ min: 0, max: deviceLimit * 2 }),
            fc.integer({ min: 0, max: MAX_CONNECT_BYTES * 2 }),
          ),
          sendAtMost: fc.integer({ min: 0, max: 1024 * 1024 }),
        }),
        async ({ loggedIn, type, flags, announced, sendAtMost }) => {
          const socket = await rawSocket(svc.mqttPort);
          try {
            if (loggedIn) {
              const connack = connackCode(socket);
              socket.write(connectPacket(device.device, device.device, device.config.secret!));
              expect(await connack).toBe(0);
            }
            const before = await oversize();
            socket.write(fixedHeader((type << 4) | flags, announced));
            await streamZeros(socket, Math.min(announced, sendAtMost), 64 * 1024);
            rssMax = Math.max(rssMax, process.memoryUsage().rss);
            if (announced > (loggedIn ? deviceLimit : MAX_CONNECT_BYTES)) {
              expect(await socketClosed(socket, 5000)).toBe(true);
              expect(await oversize()).toBe(before + 1);
              refusedRuns++;
            }
          } finally {
            socket.destroy();
          }
        },
      ),
      { numRuns: 120 },
    );
    gc();
    const rssAfter = process.memoryUsage().rss;
    console.log(
      `[fuzz] announced lengths: ${refusedRuns}/120 refused at the header; RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> max ${(rssMax / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MB`,
    );
    expect(refusedRuns).toBeGreaterThan(10);
    expect(rssMax - rssBefore).toBeLessThan(128 * 1024 * 1024);
    // The other devices are still served.
    const other = await connectDevice(svc.mqttPort, sheds[0].device, sheds[0].config.secret!);
    const ts = Date.now() - 7000;
    await other.publishAsync(`farm/${sheds[0].site}/${sheds[0].zone}/${sheds[0].device}/telemetry`, JSON.stringify({ ts, metrics: { nh3: 4 } }), { qos: 1 });
    await endClient(other);
    expect(await svc.store.raw({ device: sheds[0].device, metric: 'nh3', from: ts, to: ts + 1 })).toHaveLength(1);
  }, 300_000);

  it('stores the valid readings of batches whose other readings carry timestamps from the whole number line', async () => {
    const d = indexFarm(config).device('field-1-soil')!;
    const topic = `farm/${d.site}/${d.zone}/${d.device}/telemetry`;
    const [maxFutureMs, maxPastMs] = [svc.env.MAX_FUTURE_SKEW, svc.env.MAX_PAST_AGE];
    const near = (at: number, edge: number) => Math.abs(at - edge) < 60_000;
    const epochMs = (text: string) => {
      const v: unknown = JSON.parse(text);
      return typeof v === 'number' ? Math.round(v) : typeof v === 'string' ? Date.parse(v) : NaN;
    };
    const rejectsBefore = { ...svc.ingest.stats().rejected };
    const expected: Partial<Record<RejectReason, number>> = {};
    const siblings: number[] = [];
    const acceptedTs = new Set<number>();
    const client = await connectDevice(svc.mqttPort, d.device, d.config.secret!);
    const base = Date.now() - 2 * 3_600_000;
    const batches = fc.sample(
      fc.array(fc.oneof(anyTimestampText, fc.integer({ min: Date.now() - 400 * 86_400_000, max: Date.now() + 3_600_000 }).map(String)), {
        minLength: 1,
        maxLength: 12,
      }),
      60,
    );
    for (const [b, texts] of batches.entries()) {
      const now = Date.now();
      // The service's clock reads a little later than `now`: leave out times within a minute of the window's edges.
      const kept = texts.filter((t) => !(near(epochMs(t), now + maxFutureMs) || near(epochMs(t), now - maxPastMs)));
      const sibling = base + b;
      siblings.push(sibling);
      const readings = [...kept.map((t) => `{"ts":${t},"metrics":{"soil_moisture":30}}`), `{"ts":${sibling},"metrics":{"humidity":55}}`];
      for (const t of kept) {
        const verdict = expectedVerdict(t, now, maxFutureMs, maxPastMs);
        if (verdict === 'accepted') acceptedTs.add(epochMs(t));
        else expected[verdict] = (expected[verdict] ?? 0) + 1;
      }
      // Resolves on the PUBACK: the whole batch was taken, whatever its timestamps.
      await client.publishAsync(topic, `{"readings":[${readings.join(',')}]}`, { qos: 1 });
    }
    expect(client.connected).toBe(true);
    await endClient(client);

    const after = svc.ingest.stats().rejected;
    const counted = Object.fromEntries(
      Object.entries(after)
        .map(([k, n]) => [k, n - rejectsBefore[k as RejectReason]])
        .filter(([, n]) => n !== 0),
    );
    expect(counted).toEqual(expected);
    const humidity = await svc.store.raw({ device: d.device, metric: 'humidity', from: 0, to: Date.now() + 1e10, limit: 100_000 });
    expect(humidity.map((p) => p.ts).sort((x, y) => x - y)).toEqual(siblings);
    const moisture = await svc.store.raw({ device: d.device, metric: 'soil_moisture', from: 0, to: Date.now() + 1e10, limit: 100_000 });
    expect(new Set(moisture.map((p) => p.ts))).toEqual(acceptedTs);
  }, 120_000);
});
