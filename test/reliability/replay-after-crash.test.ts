import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { metricValue } from '../cluster/helpers.js';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';

/**
 * A rain gauge sends a store-and-forward batch, the service is killed with -9, and after the restart the gauge sends
 * the same batch again (it never saw the PUBACK). The replay is acknowledged, counted as duplicates, and neither
 * stored nor counted again by the hourly rain rule: 12 mm stays 12 mm (24 mm would raise the demo farm's blue
 * "Heavy rain" grade at 20 mm in 1 h).
 */
const GAUGE = { id: 'rain-2-gauge', secret: 'dev-only-rain-2-gauge', topic: 'farm/xihu-drain/rain-2/rain-2-gauge/telemetry' };
const dataDir = mkdtempSync(join(tmpdir(), 'farm-replay-'));
let proc: ServiceProcess | undefined;

afterAll(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a batch replayed after kill -9', () => {
  it('is acknowledged, counted as duplicates, stored once and not counted twice by the rain rules', async () => {
    const ports = await servicePorts();
    const env = { ...ports, DATA_DIR: dataDir };
    const http = Number(ports.HTTP_PORT);
    proc = spawnService(env);
    await waitHealthy(http, proc);

    const t0 = Date.now() - 10 * 60_000;
    const batch = JSON.stringify({ readings: [0, 1, 2].map((i) => ({ ts: t0 + i * 60_000, metrics: { rain_mm: 4 } })) });
    let gauge = await connectDevice(Number(ports.MQTT_PORT), GAUGE.id, GAUGE.secret);
    await gauge.publishAsync(GAUGE.topic, batch, { qos: 1 });
    await endClient(gauge);

    proc.child.kill('SIGKILL');
    await proc.exited;
    proc = spawnService(env);
    await waitHealthy(http, proc);

    gauge = await connectDevice(Number(ports.MQTT_PORT), GAUGE.id, GAUGE.secret);
    await gauge.publishAsync(GAUGE.topic, batch, { qos: 1 }); // resolves on the PUBACK: acknowledged
    await gauge.publishAsync(GAUGE.topic, JSON.stringify({ ts: t0 + 5 * 60_000, metrics: { rain_mm: 0 } }), { qos: 1 });
    await endClient(gauge);

    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    expect(metricValue(metrics, 'farm_readings_duplicate_total')).toBe(3);
    expect(metricValue(metrics, 'farm_readings_accepted_total')).toBe(1); // the marker only

    const login = await fetch(`http://127.0.0.1:${http}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'viewer', password: 'dev-only-viewer' }),
    });
    const { token } = (await login.json()) as { token: string };
    const get = async (path: string) =>
      (await fetch(`http://127.0.0.1:${http}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<Record<string, unknown>>;
    const { alerts } = (await get('/api/alerts?state=active')) as { alerts: { rule: string; device?: string }[] };
    expect(alerts.filter((a) => a.device === GAUGE.id)).toEqual([]);
    const history = (await get(`/api/readings?device=${GAUGE.id}&metric=rain_mm&from=${t0 - 1}&to=${t0 + 6 * 60_000}&every=1h`)) as {
      series: { buckets: { count: number; sum: number }[] }[];
    };
    const buckets = history.series.flatMap((s) => s.buckets);
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(4);
    expect(buckets.reduce((n, b) => n + b.sum, 0)).toBe(12);

    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  }, 120_000);
});
