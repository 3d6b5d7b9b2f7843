import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { startTestService, SHED1_ENV } from '../helpers/service.js';
import { startInfluxd } from '../helpers/influxd.js';
import { waitFor } from '../helpers/ports.js';

/**
 * Issue 2's main check: a provisioned device publishes 1,000 readings over real MQTT (single and batch forms,
 * QoS 0 and 1) and exactly those readings are found in the store: the embedded one and a real influxd.
 */
const BASE_TS = Date.now() - 3 * 3_600_000;
const sent = Array.from({ length: 1000 }, (_, i) => ({ ts: BASE_TS + i * 1000, metrics: { temperature: 10 + (i % 300) / 10, nh3: i % 97 } }));

async function publishAll(port: number) {
  const device = await connectDevice(port, SHED1_ENV.id, SHED1_ENV.secret);
  const pub = (payload: unknown, qos: 0 | 1) => device.publishAsync(SHED1_ENV.topic, JSON.stringify(payload), { qos });
  // 0-249 single QoS 0, 250-499 single QoS 1, 500-749 batches of 5 at QoS 0, 750-999 batches of 5 at QoS 1
  for (let i = 0; i < 250; i++) await pub(sent[i], 0);
  for (let i = 250; i < 500; i++) await pub(sent[i], 1);
  for (let i = 500; i < 750; i += 5) await pub({ readings: sent.slice(i, i + 5) }, 0);
  for (let i = 750; i < 1000; i += 5) await pub({ readings: sent.slice(i, i + 5) }, 1);
  await endClient(device);
}

const expected = sent.map((r) => [r.ts, r.metrics.nh3, r.metrics.temperature]);

describe('readings from an authenticated device land in the embedded store', () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.cleanup());

  it('stores exactly the 1,000 readings published, each with its own timestamp', async () => {
    await publishAll(svc.mqttPort);
    const range = { device: SHED1_ENV.id, from: BASE_TS, to: BASE_TS + 2_000_000 };
    await waitFor(async () => (await svc.store.raw({ ...range, metric: 'nh3', limit: 5000 })).length === 1000 || undefined, '1,000 nh3 points in the store');
    const nh3 = await svc.store.raw({ ...range, metric: 'nh3', limit: 5000 });
    const temperature = await svc.store.raw({ ...range, metric: 'temperature', limit: 5000 });
    const byTs = new Map(temperature.map((p) => [p.ts, p.value]));
    expect(nh3.map((p) => [p.ts, p.value, byTs.get(p.ts)])).toEqual(expected);
    expect(nh3[0]).toMatchObject({ site: 'huyang', zone: 'shed-1', kind: 'shed', device: SHED1_ENV.id });
    expect(svc.ingest.stats().accepted).toBe(1000);
  });
});

describe('readings from an authenticated device land in InfluxDB over the v1 API', () => {
  let influx: Awaited<ReturnType<typeof startInfluxd>>;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  beforeAll(async () => {
    influx = await startInfluxd();
    svc = await startTestService({ env: { INFLUX_URL: influx.url, INFLUX_DATABASE: 'farm_e2e' } });
  });
  afterAll(async () => {
    await svc?.cleanup();
    await influx?.stop();
  });

  it('finds exactly those readings through InfluxQL, tagged site, zone, kind and device', async () => {
    await publishAll(svc.mqttPort);
    const query = async (q: string) => {
      const res = await fetch(`${influx.url}/query?db=farm_e2e&epoch=ms&q=${encodeURIComponent(q)}`);
      return (await res.json()) as { results: { series?: { values: unknown[][]; tags?: Record<string, string> }[] }[] };
    };
    await waitFor(
      async () => {
        const r = await query(`SELECT count(nh3) FROM telemetry WHERE device = 'shed-1-env'`);
        return r.results[0].series?.[0].values[0][1] === 1000 || undefined;
      },
      'count(nh3) = 1000 in InfluxDB',
      30_000,
      200,
    );
    const r = await query(`SELECT nh3, temperature FROM telemetry WHERE device = 'shed-1-env' AND time >= ${BASE_TS}ms GROUP BY site, zone, kind, device`);
    const series = r.results[0].series![0];
    expect(series.tags).toEqual({ site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env' });
    expect(series.values).toEqual(expected);
  });
});
