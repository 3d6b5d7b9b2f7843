import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { waitFor } from '../helpers/ports.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { flowValue, influxPoints, startFlow, type FlowDevice } from './flow.js';
import { report } from './report.js';

/**
 * kill -9 of the real service process storing into a real InfluxDB, while devices publish QoS 1 with a
 * persistent session: once with InfluxDB up, once with InfluxDB stopped and a backlog in the outbox, once while
 * that backlog drains. Every reading a device got a PUBACK for ends up in InfluxDB, with the value sent.
 */
const DB = 'crash';
const dataDir = mkdtempSync(join(tmpdir(), 'farm-crash-influx-'));
const devices: FlowDevice[] = [1, 2].map((n) => ({ id: `shed-${n}-env`, secret: `dev-only-shed-${n}-env`, topic: `farm/huyang/shed-${n}/shed-${n}-env/telemetry` }));
let influxd: Influxd;
let proc: ServiceProcess | undefined;

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  await influxd?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

type Health = { status: string; checks: { outbox?: { depth: number } } };

describe('crash safety with InfluxDB behind the outbox', () => {
  it('loses no acknowledged reading across kill -9 with InfluxDB up, down, and draining a backlog', async () => {
    const ports = await servicePorts();
    const env = { ...ports, DATA_DIR: dataDir, INFLUX_URL: influxd.url, INFLUX_DATABASE: DB, INFLUX_TIMEOUT: '2s' };
    const httpPort = Number(ports.HTTP_PORT);
    const health = async () => (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as Health;
    const start = async () => {
      proc = spawnService(env);
      return waitHealthy(httpPort, proc);
    };
    const kill9 = async () => {
      proc!.child.kill('SIGKILL');
      expect((await proc!.exited).signal).toBe('SIGKILL');
    };
    await start();

    const base = Date.now() - 3_600_000;
    const flow = await startFlow(Number(ports.MQTT_PORT), devices, { intervalMs: 4, base, persistent: true });
    const ackedMore = (n: number, what: string) => {
      const target = flow.ackedTotal() + n;
      return waitFor(() => flow.ackedTotal() >= target || undefined, what, 45_000);
    };

    // 1. InfluxDB up.
    await ackedMore(150, 'readings acknowledged with InfluxDB up');
    await kill9();
    await start();

    // 2. InfluxDB down: readings pile up in the outbox, then the process dies with them on disk.
    await influxd.pause();
    await waitFor(async () => ((await health()).checks.outbox?.depth ?? 0) > 150 || undefined, 'a backlog in the outbox', 45_000);
    await kill9();
    const restarted = await start();
    const backlogAfterCrash = (restarted.checks.outbox as { depth: number }).depth;
    expect(backlogAfterCrash).toBeGreaterThan(150); // the backlog survived kill -9
    expect(restarted.status).toBe('degraded');
    await ackedMore(150, 'readings acknowledged after the restart, InfluxDB still down');

    // 3. InfluxDB back: the backlog drains; the process dies again while it does.
    await influxd.resume();
    await ackedMore(100, 'readings acknowledged with InfluxDB back');
    await kill9();
    await start();
    await ackedMore(150, 'readings acknowledged after the last restart');

    await flow.stop();
    await flow.close();
    const drained = await waitFor(async () => {
      const h = await health();
      return (h.checks.outbox?.depth === 0 && h.status === 'ok' && h) || undefined;
    }, 'the outbox to drain', 30_000);
    expect(drained.status).toBe('ok');
    proc!.child.kill('SIGTERM');
    expect((await proc!.exited).code).toBe(0);

    let acked = 0;
    let stored = 0;
    for (const d of devices) {
      const points = await influxPoints(influxd.url, DB, d.id);
      const missing = [...flow.acked(d.id)].filter((ts) => !points.has(ts));
      expect(missing, `${d.id}: acknowledged but not in InfluxDB`).toEqual([]);
      const sent = new Set(flow.sent(d.id));
      expect([...points.keys()].filter((ts) => !sent.has(ts)), `${d.id}: in InfluxDB but never sent`).toEqual([]);
      for (const [ts, value] of points) expect(value).toBe(flowValue(ts));
      acked += flow.acked(d.id).size;
      stored += points.size;
    }
    expect(acked).toBeGreaterThan(600);
    report('crash-influx', { kills: 3, acknowledged: acked, stored, sent: flow.sentTotal(), backlogSurvivingKill: backlogAfterCrash });
  }, 120_000); // four start-ups of the real process: ~3 s each on an idle machine, up to 10 s on a busy one
});
