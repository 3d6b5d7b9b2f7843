import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { silentLogger } from '../../core/logger.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { SHED1_ENV } from '../helpers/service.js';
import { waitFor } from '../helpers/ports.js';

/**
 * kill -9 of the real service process, several times while a device publishes QoS 1 with a persistent
 * session and retries: every reading the device got a PUBACK for is in the store, exactly once.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'farm-crash-'));
let proc: ServiceProcess | undefined;
afterAll(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('crash safety', () => {
  it('loses no acknowledged reading across three kill -9 restarts', async () => {
    const ports = await servicePorts();
    const env = { ...ports, DATA_DIR: dataDir };
    proc = spawnService(env);
    await waitHealthy(Number(ports.HTTP_PORT), proc);

    const device = mqtt.connect(`mqtt://127.0.0.1:${ports.MQTT_PORT}`, {
      clientId: SHED1_ENV.id, username: SHED1_ENV.id, password: SHED1_ENV.secret, clean: false, reconnectPeriod: 200, connectTimeout: 3000,
    });
    device.on('error', () => {}); // reconnects by itself while the service is down
    const base = Date.now() - 600_000;
    const acked = new Set<number>();
    let sent = 0;
    let publishing = true;
    const inflight = new Set<Promise<void>>();
    const publisher = (async () => {
      while (publishing && sent < 20_000) {
        const ts = base + sent++;
        const p = device.publishAsync(SHED1_ENV.topic, JSON.stringify({ ts, metrics: { nh3: (ts % 400) / 4 } }), { qos: 1 }).then(() => void acked.add(ts), () => {});
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        if (inflight.size >= 50) await Promise.race(inflight);
      }
    })();

    for (let kill = 0; kill < 3; kill++) {
      const target = acked.size + 300;
      await waitFor(() => acked.size >= target || undefined, `${target} acknowledged readings`, 60_000);
      proc.child.kill('SIGKILL');
      await proc.exited;
      proc = spawnService(env);
      await waitHealthy(Number(ports.HTTP_PORT), proc);
    }
    const target = acked.size + 300;
    await waitFor(() => acked.size >= target || undefined, 'readings acknowledged after the last restart', 60_000);
    publishing = false;
    await publisher;
    // What was in flight at the end is resent by the client until acknowledged.
    await waitFor(() => inflight.size === 0 || undefined, 'in-flight publishes to settle', 30_000);
    device.end(true);

    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);

    const store = createSqliteStore({ dataDir, logger: silentLogger() });
    await store.init();
    const points = await store.raw({ device: SHED1_ENV.id, metric: 'nh3', from: base, to: base + sent + 1, limit: 100_000 });
    await store.close();
    const stored = points.map((p) => p.ts);
    const storedSet = new Set(stored);
    const missing = [...acked].filter((ts) => !storedSet.has(ts));
    expect(missing).toEqual([]);
    expect(storedSet.size).toBe(stored.length); // none twice
    expect(stored.length).toBeLessThanOrEqual(sent);
    expect(acked.size).toBeGreaterThan(1200);
  });
});
