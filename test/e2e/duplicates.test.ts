import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { FarmConfig } from '../../core/config/schema.js';
import type { AlertEvent, Reading } from '../../core/domain.js';
import { metricValue } from '../cluster/helpers.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { DEMO_CONFIG, startTestService } from '../helpers/service.js';

/**
 * The reproduction with real clients: a rain gauge's 6 mm reading delivered twice with the same ts (a QoS 1
 * redelivery, a store-and-forward resend after a lost PUBACK) must not raise "rain above 10 mm in 1 h". Both copies
 * are acknowledged; the value is stored once, evaluated once, shown once on the dashboard, and counted as a
 * duplicate. A second, different 6 mm does raise it (the rule works). Against the embedded store and a real influxd.
 */
const GAUGE = { id: 'rain-1-gauge', secret: 'dev-only-rain-1-gauge', topic: 'farm/xihu-drain/rain-1/rain-1-gauge/telemetry' };
const RULE = {
  id: 'rain-10mm-1h',
  scope: { site: 'xihu-drain' },
  when: { metric: 'rain_mm', window: '1h', agg: 'sum', above: 10 },
  actions: [{ alert: { severity: 'warning', message: 'rain above 10 mm in 1 h at {device}: {value} mm' } }],
};

function configWithRule() {
  const demo = loadFarmConfig(DEMO_CONFIG);
  return FarmConfig.parse({ ...demo, rules: [...demo.rules, RULE] });
}

describe.each([['embedded store'], ['InfluxDB']])('a rain reading delivered twice (%s)', (kind) => {
  let influx: Influxd | undefined;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let socket: Socket;
  const live: Reading[] = [];
  const alerts: AlertEvent[] = [];

  beforeAll(async () => {
    if (kind === 'InfluxDB') influx = await startInfluxd();
    svc = await startTestService({ config: configWithRule(), env: influx ? { INFLUX_URL: influx.url, INFLUX_DATABASE: 'dups' } : {} });
    svc.bus.on('alert', (a) => alerts.push(a));
    const login = await fetch(`http://127.0.0.1:${svc.httpPort}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'viewer', password: 'dev-only-viewer' }),
    });
    const { token } = (await login.json()) as { token: string };
    socket = io(`http://127.0.0.1:${svc.httpPort}`, { auth: { token }, transports: ['websocket'] });
    socket.on('reading', (batch: Reading[]) => live.push(...batch.filter((r) => r.device === GAUGE.id)));
    expect(await socket.timeout(10_000).emitWithAck('join', { sites: ['xihu-drain'] })).toMatchObject({ ok: true });
  });
  afterAll(async () => {
    socket?.disconnect();
    await svc?.cleanup();
    await influx?.stop();
  });

  it('is acknowledged twice, stored once, shown once, counted as a duplicate and raises no "above 10 mm in 1 h"', async () => {
    const gauge = await connectDevice(svc.mqttPort, GAUGE.id, GAUGE.secret);
    const ts = Date.now() - 60_000;
    const payload = JSON.stringify({ ts, metrics: { rain_mm: 6 } });
    // publishAsync resolves on the PUBACK: both copies are acknowledged.
    await gauge.publishAsync(GAUGE.topic, payload, { qos: 1 });
    await gauge.publishAsync(GAUGE.topic, payload, { qos: 1 });
    // A store-and-forward batch resent with the same reading in it, and a later marker reading.
    await gauge.publishAsync(
      GAUGE.topic,
      JSON.stringify({
        readings: [
          { ts, metrics: { rain_mm: 6 } },
          { ts: ts + 1000, metrics: { rain_mm: 0 } },
        ],
      }),
      { qos: 1 },
    );
    await waitFor(() => live.some((r) => r.ts === ts + 1000), 'the marker reading on the dashboard socket');

    expect(alerts.filter((a) => a.rule === RULE.id)).toEqual([]);
    expect(live.filter((r) => r.metrics.rain_mm === 6)).toHaveLength(1);
    expect(live.reduce((sum, r) => sum + (r.metrics.rain_mm ?? 0), 0)).toBe(6);
    const metrics = await (await fetch(`http://127.0.0.1:${svc.httpPort}/metrics`)).text();
    expect(metricValue(metrics, 'farm_readings_duplicate_total')).toBe(2);
    expect(metricValue(metrics, 'farm_readings_accepted_total')).toBe(2);
    const stored = await waitFor(
      async () => {
        const points = await svc.store.raw({ device: GAUGE.id, from: ts - 1, to: ts + 2000 });
        return points.length === 2 ? points : undefined;
      },
      'both distinct readings in the store',
      30_000,
    );
    expect(stored.map((p) => [p.ts, p.value])).toEqual([
      [ts, 6],
      [ts + 1000, 0],
    ]);
    // The daily total the drainage view shows counts it once too.
    const [series] = await svc.store.history({
      device: GAUGE.id,
      metric: 'rain_mm',
      from: ts - 1,
      to: ts + 2000,
      everyMs: 3_600_000,
      timeZone: 'Asia/Shanghai',
    });
    expect(series.buckets.reduce((sum, b) => sum + (b.sum ?? 0), 0)).toBe(6);

    // A second 6 mm with its own ts is new rain: 12 mm in the hour raises the alert.
    await gauge.publishAsync(GAUGE.topic, JSON.stringify({ ts: ts + 2000, metrics: { rain_mm: 6 } }), { qos: 1 });
    const raised = await waitFor(() => alerts.find((a) => a.rule === RULE.id && a.state === 'raised'), 'the rain alert for 12 mm');
    expect(raised.value).toBe(12);
    await endClient(gauge);
  });
});
