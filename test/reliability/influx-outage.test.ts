import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { startTestService } from '../helpers/service.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { flowValue, influxPoints, percentile, startFlow, type FlowDevice } from './flow.js';
import { report } from './report.js';

/**
 * InfluxDB unavailable under a steady flow through the whole service (real MQTT devices → broker → ingest →
 * outbox → real influxd): stopped for real, answering 5xx, answering slower than INFLUX_TIMEOUT. Readings keep
 * being acknowledged, /health says degraded (not down) with the outbox's depth and age, /metrics shows them,
 * and once InfluxDB is back every reading is in it exactly once, delivered in order.
 */
v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

const DB = 'outage';
const sheds: FlowDevice[] = [1, 2, 3, 4].map((n) => ({
  id: `shed-${n}-env`,
  secret: `dev-only-shed-${n}-env`,
  topic: `farm/huyang/shed-${n}/shed-${n}-env/telemetry`,
}));
let influxd: Influxd;
let proxy: FaultProxy;
let svc: Awaited<ReturnType<typeof startTestService>>;

beforeAll(async () => {
  influxd = await startInfluxd();
  proxy = await startFaultProxy(influxd.url);
  svc = await startTestService({ env: { INFLUX_URL: proxy.url, INFLUX_DATABASE: DB, INFLUX_TIMEOUT: '1s' } });
});
afterAll(async () => {
  await svc?.cleanup();
  await proxy?.close();
  await influxd?.stop();
});

type Health = { httpStatus: number; status: string; checks: { outbox?: { depth: number; oldestAgeMs: number; lastError?: string } } };
async function health(): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${svc.httpPort}/health`);
  return { httpStatus: res.status, ...((await res.json()) as Omit<Health, 'httpStatus'>) };
}
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${svc.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}
const depth = async () => (await health()).checks.outbox?.depth ?? -1;

/** Waits until the outbox is empty and /health is ok again; returns how long that took. */
async function recovered(what: string, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  await waitFor(
    async () => {
      const h = await health();
      return (h.status === 'ok' && h.checks.outbox?.depth === 0) || undefined;
    },
    `the outbox to drain and /health to be ok after ${what}`,
    timeoutMs,
    50,
  );
  return Date.now() - started;
}

/** Waits for the fault to show: readings pile up in the outbox, /health degraded with the cause, /metrics too. */
async function degraded(cause: RegExp): Promise<Health> {
  const h = await waitFor(
    async () => {
      const h = await health();
      return (h.status === 'degraded' && (h.checks.outbox?.depth ?? 0) > 50 && cause.test(h.checks.outbox?.lastError ?? '') && h) || undefined;
    },
    `/health degraded with ${cause}`,
    20_000,
    50,
  );
  expect(h.httpStatus).toBe(200); // degraded is not down: a load balancer keeps sending devices here
  expect(h.checks.outbox!.oldestAgeMs).toBeGreaterThan(0);
  expect(await metric('farm_outbox_depth')).toBeGreaterThan(0);
  expect(await metric('farm_outbox_oldest_age_seconds')).toBeGreaterThan(0);
  return h;
}

describe('InfluxDB outages under a steady flow', () => {
  it('keeps acknowledging readings through a stopped influxd, 5xx answers and slow answers, then stores every one exactly once, in order', async () => {
    const base = Date.now() - 3_600_000;
    const flow = await startFlow(svc.mqttPort, sheds, { intervalMs: 20, base }); // 4 devices × 50 readings/s
    await waitFor(() => flow.ackedTotal() >= 200 || undefined, '200 readings acknowledged before any fault');
    expect((await health()).status).toBe('ok');
    flow.takeLatencies();
    const figures: Record<string, unknown> = {};

    // 1. influxd stopped for real.
    await influxd.pause();
    const ackedAtStop = flow.ackedTotal();
    await degraded(/not reachable/);
    await new Promise((r) => setTimeout(r, 3000));
    const ackedDuringStop = flow.ackedTotal() - ackedAtStop;
    const outageLatency = flow.takeLatencies();
    figures.stopped = { ackedDuringOutage: ackedDuringStop, outboxDepth: await depth(), pubackP99Ms: Math.round(percentile(outageLatency, 99)) };
    expect(ackedDuringStop).toBeGreaterThan(300); // the flow went on: ~200/s for 3+ s
    expect(percentile(outageLatency, 99)).toBeLessThan(2000); // acknowledged from the outbox, not waiting for InfluxDB
    let resumedAt = Date.now();
    await influxd.resume();
    figures.stopped = { ...(figures.stopped as object), recoverMsAfterRestart: Date.now() - resumedAt + (await recovered('influxd restarted')) };

    // 2. InfluxDB answering 503.
    proxy.mode = { kind: 'error', status: 503 };
    await degraded(/503/);
    await new Promise((r) => setTimeout(r, 1500));
    figures.http503 = { outboxDepth: await depth() };
    proxy.mode = { kind: 'pass' };
    resumedAt = Date.now();
    figures.http503 = { ...(figures.http503 as object), recoverMs: await recovered('503 answers') };

    // 3. InfluxDB answering after 1.5 s, past INFLUX_TIMEOUT (1 s): the service gives up and sends again.
    proxy.mode = { kind: 'slow', delayMs: 1500 };
    await degraded(/abort|timeout/i);
    await new Promise((r) => setTimeout(r, 1500));
    figures.slow = { outboxDepth: await depth() };
    proxy.mode = { kind: 'pass' };
    figures.slow = { ...(figures.slow as object), recoverMs: await recovered('slow answers') };

    await flow.stop();
    await flow.close();
    await recovered('the end of the flow');

    // Exactly every reading, none missing, none extra, each with the value sent.
    let stored = 0;
    for (const d of sheds) {
      const acked = flow.acked(d.id);
      expect(acked.size, `${d.id}: every reading sent got its PUBACK`).toBe(flow.sent(d.id).length);
      const points = await influxPoints(influxd.url, DB, d.id);
      expect([...points.keys()].sort((a, b) => a - b)).toEqual([...acked].sort((a, b) => a - b));
      for (const [ts, value] of points) expect(value, `${d.id} at ${ts}`).toBe(flowValue(ts));
      stored += points.size;
    }
    // In order: the first time InfluxDB received each reading, per device, is in publish order.
    const firstSeen = new Map<string, number[]>();
    const seen = new Set<string>();
    let resent = 0;
    for (const write of proxy.writes)
      for (const line of write.lines) {
        const device = /device=([^, ]+)/.exec(line)?.[1] ?? '';
        const ts = Number(line.slice(line.lastIndexOf(' ') + 1));
        const key = `${device}|${ts}`;
        if (seen.has(key)) {
          resent++;
          continue;
        }
        seen.add(key);
        firstSeen.set(device, [...(firstSeen.get(device) ?? []), ts]);
      }
    for (const d of sheds) {
      const order = firstSeen.get(d.id) ?? [];
      expect(
        order.every((ts, i) => i === 0 || ts > order[i - 1]),
        `${d.id} delivered in order`,
      ).toBe(true);
    }
    report('influx-outage', { readingsStored: stored, readingsResentAfterTimeouts: resent, injected: proxy.injected, ...figures });
  });

  it('holds a 100,000-reading backlog on disk, not in memory, and drains it once InfluxDB is back', async () => {
    const device = await connectDevice(svc.mqttPort, 'shed-1-env', 'dev-only-shed-1-env');
    const base = Date.now() - 7_200_000;
    const PER_MESSAGE = 100;
    const MESSAGES = 1000;
    await influxd.pause();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const ingestStarted = Date.now();
    for (let m = 0; m < MESSAGES; m += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, k) => {
          const first = base + (m + k) * PER_MESSAGE;
          const readings = Array.from({ length: PER_MESSAGE }, (_, i) => ({ ts: first + i, metrics: { nh3: flowValue(first + i) } }));
          return device.publishAsync('farm/huyang/shed-1/shed-1-env/telemetry', JSON.stringify({ readings }), { qos: 1 });
        }),
      );
    }
    const ingestMs = Date.now() - ingestStarted;
    expect(await depth()).toBeGreaterThanOrEqual(MESSAGES * PER_MESSAGE);
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    // 100,000 readings held as objects would take well over 40 MB; on disk they cost the heap next to nothing.
    expect(heapGrowth).toBeLessThan(20 * 1024 * 1024);

    const resumed = Date.now();
    await influxd.resume();
    const drainMs = Date.now() - resumed + (await recovered('the backlog', 60_000));
    const points = await influxPoints(influxd.url, DB, 'shed-1-env');
    const backlog = [...points.keys()].filter((ts) => ts >= base && ts < base + MESSAGES * PER_MESSAGE);
    expect(backlog).toHaveLength(MESSAGES * PER_MESSAGE);
    await endClient(device);
    report('influx-backlog', {
      readings: MESSAGES * PER_MESSAGE,
      acceptedPerSecondDuringOutage: Math.round((MESSAGES * PER_MESSAGE) / (ingestMs / 1000)),
      heapGrowthMB: +(heapGrowth / 1024 / 1024).toFixed(1),
      drainMsAfterInfluxBack: drainMs,
      drainReadingsPerSecond: Math.round((MESSAGES * PER_MESSAGE) / (drainMs / 1000)),
    });
  });
});
