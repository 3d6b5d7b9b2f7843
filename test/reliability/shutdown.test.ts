import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { createOutbox } from '../../store/outbox.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { waitFor } from '../helpers/ports.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { flowValue, influxPoints, startFlow, type Flow, type FlowDevice } from './flow.js';
import { report } from './report.js';

/**
 * SIGTERM to the real process while devices publish: it stops accepting, writes what it accepted, closes the
 * MQTT sessions and exits 0 well within main.ts's 15 s limit. Nothing that got a PUBACK is lost.
 */
const BOUND_MS = 10_000;
const devices: FlowDevice[] = [1, 2, 3, 4].map((n) => ({
  id: `shed-${n}-env`,
  secret: `dev-only-shed-${n}-env`,
  topic: `farm/huyang/shed-${n}/shed-${n}-env/telemetry`,
}));
const dirs: string[] = [];
const procs: ServiceProcess[] = [];
let influxd: Influxd | undefined;
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await influxd?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'farm-shutdown-'));
  dirs.push(d);
  return d;
}

async function start(env: Record<string, string>) {
  const proc = spawnService(env);
  procs.push(proc);
  await waitHealthy(Number(env.HTTP_PORT), proc);
  return proc;
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

/** Lets the flow run, sends SIGTERM mid-flow, and measures until the process is gone. */
async function terminateUnderLoad(proc: ServiceProcess, flow: Flow, ports: { MQTT_PORT: string; HTTP_PORT: string }) {
  const target = flow.ackedTotal() + 300;
  await waitFor(() => flow.ackedTotal() >= target || undefined, '300 readings acknowledged before SIGTERM', 30_000);
  const closed = Promise.all(flow.clients.map((c) => new Promise<void>((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()))));
  const sentAt = Date.now();
  proc.child.kill('SIGTERM');
  const exit = await proc.exited;
  const shutdownMs = Date.now() - sentAt;
  await closed; // every device saw its session closed by the service
  expect(exit).toEqual({ code: 0, signal: null });
  expect(shutdownMs).toBeLessThan(BOUND_MS);
  expect(await refused(Number(ports.MQTT_PORT))).toBe(true);
  expect(await refused(Number(ports.HTTP_PORT))).toBe(true);
  await flow.stop(0);
  await flow.close();
  return shutdownMs;
}

describe('graceful shutdown on SIGTERM', () => {
  it('with the embedded store: exits 0 within the bound and every acknowledged reading is stored', async () => {
    const dataDir = tempDir();
    const ports = await servicePorts();
    const proc = await start({ ...ports, DATA_DIR: dataDir });
    const base = Date.now() - 3_600_000;
    const flow = await startFlow(Number(ports.MQTT_PORT), devices, { intervalMs: 5, base });
    const shutdownMs = await terminateUnderLoad(proc, flow, ports);

    const store = createSqliteStore({ dataDir, logger: silentLogger() });
    await store.init();
    for (const d of devices) {
      const stored = new Set((await store.raw({ device: d.id, metric: 'nh3', from: base, to: base + 1e6, limit: 1e6 })).map((p) => p.ts));
      expect(
        [...flow.acked(d.id)].filter((ts) => !stored.has(ts)),
        `${d.id}: acknowledged but not stored`,
      ).toEqual([]);
    }
    await store.close();
    report('shutdown-embedded', { shutdownMs, acknowledged: flow.ackedTotal(), sent: flow.sentTotal() });
  });

  it('with InfluxDB down it does not wait for it (the outbox keeps the rest); with InfluxDB up it sends the backlog before exiting', async () => {
    influxd = await startInfluxd();
    const dataDir = tempDir();
    const ports = await servicePorts();
    const env = { ...ports, DATA_DIR: dataDir, INFLUX_URL: influxd.url, INFLUX_DATABASE: 'shutdown', INFLUX_TIMEOUT: '2s' };
    const base = Date.now() - 3_600_000;

    // InfluxDB down: SIGTERM must not hang on it.
    let proc = await start(env);
    await influxd.pause();
    let flow = await startFlow(Number(ports.MQTT_PORT), devices, { intervalMs: 5, base });
    const downMs = await terminateUnderLoad(proc, flow, ports);
    const first = flow;
    const outbox = createOutbox({ dataDir, logger: silentLogger() });
    const left = outbox.depth();
    await outbox.close();
    expect(left).toBeGreaterThanOrEqual(first.ackedTotal()); // every acknowledged reading waits on disk

    // InfluxDB back: the next run sends that backlog, and its own SIGTERM flushes what it accepted.
    await influxd.resume();
    proc = await start(env);
    flow = await startFlow(Number(ports.MQTT_PORT), devices, { intervalMs: 5, base: base + 1_000_000 });
    const upMs = await terminateUnderLoad(proc, flow, ports);
    const check = createOutbox({ dataDir, logger: silentLogger() });
    const remaining = check.depth();
    await check.close();
    expect(remaining, 'nothing left in the outbox after a clean shutdown with InfluxDB up').toBe(0);
    for (const d of devices) {
      const points = await influxPoints(influxd.url, 'shutdown', d.id);
      for (const f of [first, flow])
        expect(
          [...f.acked(d.id)].filter((ts) => !points.has(ts)),
          `${d.id}: acknowledged but not in InfluxDB`,
        ).toEqual([]);
      for (const [ts, value] of points) expect(value).toBe(flowValue(ts));
    }
    report('shutdown-influx', {
      shutdownMsInfluxDown: downMs,
      leftInOutbox: left,
      shutdownMsInfluxUp: upMs,
      acknowledged: first.ackedTotal() + flow.ackedTotal(),
    });
  }, 120_000); // three start-ups (influxd, the service twice) on a shared machine
});
