import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { silentLogger } from '../../core/logger.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { SHED1_ENV } from '../helpers/service.js';
import { waitFor } from '../helpers/ports.js';
import { startFlow } from './flow.js';
import { report } from './report.js';

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

    const base = Date.now() - 600_000;
    const flow = await startFlow(Number(ports.MQTT_PORT), [SHED1_ENV], { intervalMs: 2, base, persistent: true });
    const ackedMore = (n: number, what: string) => {
      const target = flow.ackedTotal() + n;
      return waitFor(() => flow.ackedTotal() >= target || undefined, what, 45_000);
    };
    for (let kill = 0; kill < 3; kill++) {
      await ackedMore(250, 'readings acknowledged before the kill');
      proc.child.kill('SIGKILL');
      await proc.exited;
      proc = spawnService(env);
      await waitHealthy(Number(ports.HTTP_PORT), proc);
    }
    await ackedMore(250, 'readings acknowledged after the last restart');
    // What was in flight at the end is resent by the client until acknowledged.
    await flow.stop();
    await flow.close();

    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);

    const store = createSqliteStore({ dataDir, logger: silentLogger() });
    await store.init();
    const sent = flow.sent(SHED1_ENV.id);
    const points = await store.raw({ device: SHED1_ENV.id, metric: 'nh3', from: base, to: base + sent.length + 1, limit: 100_000 });
    await store.close();
    const stored = points.map((p) => p.ts);
    const storedSet = new Set(stored);
    const acked = flow.acked(SHED1_ENV.id);
    expect([...acked].filter((ts) => !storedSet.has(ts))).toEqual([]);
    expect(storedSet.size).toBe(stored.length); // none twice
    expect(stored.length).toBeLessThanOrEqual(sent.length);
    expect(acked.size).toBeGreaterThanOrEqual(1000);
    report('crash-embedded', { kills: 3, acknowledged: acked.size, stored: stored.length, sent: sent.length });
  }, 120_000); // four start-ups of the real process: ~3 s each on an idle machine, up to 10 s on a busy one
});
