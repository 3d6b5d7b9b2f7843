import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../core/domain.js';
import type { CommandRecord } from '../../store/store.js';
import { influxql, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { waitFor } from '../helpers/ports.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { login, type AlertView } from './api.js';
import { flowValue, influxPoints, startFlow, type FlowDevice } from './flow.js';
import { report } from './report.js';

/**
 * kill -9 of the real service process storing into a real InfluxDB.
 * 1. Devices publish QoS 1 with a persistent session: once with InfluxDB up, once with InfluxDB stopped and a
 *    backlog in the outbox, once while that backlog drains. Every reading a device got a PUBACK for ends up in
 *    InfluxDB, with the value sent.
 * 2. With InfluxDB stopped a rule fires (a fan command and an alert) and an operator acknowledges the alert;
 *    the process dies. Once InfluxDB and the service are back, the alert events and command records are in
 *    InfluxDB exactly once, and the restarted engine knows the alert is open and acknowledged.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'farm-crash-influx-'));
const devices: FlowDevice[] = [1, 2].map((n) => ({
  id: `shed-${n}-env`,
  secret: `dev-only-shed-${n}-env`,
  topic: `farm/huyang/shed-${n}/shed-${n}-env/telemetry`,
}));
let influxd: Influxd;
let proc: ServiceProcess | undefined;
const clients: MqttClient[] = [];

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  await influxd?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

type Outbox = { depth: number; byKind: { reading: number; alert: number; command: number } };
type Health = { status: string; checks: { outbox?: Outbox } };

/** The service as its own process on fresh ports, storing into `database` of the test's influxd. */
async function service(name: string, database: string) {
  const ports = await servicePorts();
  const env = { ...ports, DATA_DIR: join(dataDir, name), INFLUX_URL: influxd.url, INFLUX_DATABASE: database, INFLUX_TIMEOUT: '2s' };
  const httpPort = Number(ports.HTTP_PORT);
  return {
    httpPort,
    mqttPort: Number(ports.MQTT_PORT),
    health: async () => (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as Health,
    start: async (): Promise<Health> => {
      proc = spawnService(env);
      return waitHealthy(httpPort, proc);
    },
    kill9: async () => {
      proc!.child.kill('SIGKILL');
      expect((await proc!.exited).signal).toBe('SIGKILL');
    },
    sigterm: async () => {
      proc!.child.kill('SIGTERM');
      expect((await proc!.exited).code).toBe(0);
    },
  };
}

/** Every point of a measurement, as the JSON the service wrote (InfluxQL over HTTP, not through the service). */
async function stored<T>(database: string, measurement: 'alert' | 'command'): Promise<T[]> {
  const [result] = await influxql(influxd.url, `SELECT "json" FROM "${measurement}"`, { db: database });
  return (result?.series?.[0]?.values ?? []).map((v) => JSON.parse(String(v[1])) as T);
}

/** A device on a persistent session that keeps reconnecting while the service restarts. */
async function connect(port: number, id: string): Promise<MqttClient> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: id,
    username: id,
    password: `dev-only-${id}`,
    clean: false,
    reconnectPeriod: 200,
    connectTimeout: 3000,
  });
  c.on('error', () => {});
  clients.push(c);
  await new Promise<void>((resolve) => c.once('connect', () => resolve()));
  return c;
}

describe('crash safety with InfluxDB behind the outbox', () => {
  it('loses no acknowledged reading across kill -9 with InfluxDB up, down, and draining a backlog', async () => {
    const DB = 'crash';
    const svc = await service('readings', DB);
    await svc.start();

    const base = Date.now() - 3_600_000;
    const flow = await startFlow(svc.mqttPort, devices, { intervalMs: 4, base, persistent: true });
    const ackedMore = (n: number, what: string) => {
      const target = flow.ackedTotal() + n;
      return waitFor(() => flow.ackedTotal() >= target || undefined, what, 45_000);
    };

    // 1. InfluxDB up.
    await ackedMore(150, 'readings acknowledged with InfluxDB up');
    await svc.kill9();
    await svc.start();

    // 2. InfluxDB down: readings pile up in the outbox, then the process dies with them on disk.
    await influxd.pause();
    await waitFor(async () => ((await svc.health()).checks.outbox?.depth ?? 0) > 150 || undefined, 'a backlog in the outbox', 45_000);
    await svc.kill9();
    const restarted = await svc.start();
    const backlogAfterCrash = restarted.checks.outbox!.depth;
    expect(backlogAfterCrash).toBeGreaterThan(150); // the backlog survived kill -9
    expect(restarted.status).toBe('degraded');
    await ackedMore(150, 'readings acknowledged after the restart, InfluxDB still down');

    // 3. InfluxDB back: the backlog drains; the process dies again while it does.
    await influxd.resume();
    await ackedMore(100, 'readings acknowledged with InfluxDB back');
    await svc.kill9();
    await svc.start();
    await ackedMore(150, 'readings acknowledged after the last restart');

    await flow.stop();
    await flow.close();
    const drained = await waitFor(
      async () => {
        const h = await svc.health();
        return (h.checks.outbox?.depth === 0 && h.status === 'ok' && h) || undefined;
      },
      'the outbox to drain',
      30_000,
    );
    expect(drained.status).toBe('ok');
    await svc.sigterm();

    let acked = 0;
    let storedPoints = 0;
    for (const d of devices) {
      const points = await influxPoints(influxd.url, DB, d.id);
      const missing = [...flow.acked(d.id)].filter((ts) => !points.has(ts));
      expect(missing, `${d.id}: acknowledged but not in InfluxDB`).toEqual([]);
      const sent = new Set(flow.sent(d.id));
      expect(
        [...points.keys()].filter((ts) => !sent.has(ts)),
        `${d.id}: in InfluxDB but never sent`,
      ).toEqual([]);
      for (const [ts, value] of points) expect(value).toBe(flowValue(ts));
      acked += flow.acked(d.id).size;
      storedPoints += points.size;
    }
    expect(acked).toBeGreaterThan(600);
    report('crash-influx', { kills: 3, acknowledged: acked, stored: storedPoints, sent: flow.sentTotal(), backlogSurvivingKill: backlogAfterCrash });
  }, 120_000); // four start-ups of the real process: ~3 s each on an idle machine, up to 10 s on a busy one

  it('keeps the alert events and command records made while InfluxDB is down across kill -9, and stores each exactly once', async () => {
    const DB = 'crash_events';
    const svc = await service('events', DB);
    await svc.start();

    // shed-1's fan as a real actuator: it acknowledges every command by reporting its state (SPEC).
    const fan = await connect(svc.mqttPort, 'shed-1-fan');
    await fan.subscribeAsync('farm/huyang/shed-1/shed-1-fan/cmd', { qos: 1 });
    fan.on('message', (_topic, payload) => {
      const command = JSON.parse(payload.toString()) as { id: string; action: string };
      const state = { state: command.action === 'off' ? 'off' : 'on', ack: command.id, ts: Date.now() };
      void fan.publishAsync('farm/huyang/shed-1/shed-1-fan/state', JSON.stringify(state), { qos: 1 }).catch(() => {});
    });
    const sensor = await connect(svc.mqttPort, 'shed-1-env');
    let ops = await login(svc.httpPort, 'ops', 'dev-only-operator');

    // InfluxDB goes down; H2S in shed 1 goes over 10 ppm: the demo rule shed-h2s switches the fan on and raises a warning.
    await influxd.pause();
    await sensor.publishAsync('farm/huyang/shed-1/shed-1-env/telemetry', JSON.stringify({ ts: Date.now(), metrics: { h2s: 15 } }), { qos: 1 });
    const raised = await waitFor(
      async () => (await ops.get<{ alerts: AlertView[] }>('/api/alerts?state=active')).alerts.find((a) => a.rule === 'shed-h2s' && a.zone === 'shed-1'),
      'the H2S alert',
    );
    const ack = await ops.send<{ alert: AlertView }>('POST', `/api/alerts/${raised.id}/ack`, {});
    expect(ack).toMatchObject({ status: 200, body: { alert: { state: 'acknowledged' } } });
    // On disk in the outbox (the fan's acknowledgement included), not in InfluxDB: /health says so, by kind.
    const before = await waitFor(async () => {
      const h = await svc.health();
      const k = h.checks.outbox?.byKind;
      return (k && k.alert >= 2 && k.command >= 2 && h) || undefined;
    }, 'the alert events and command records in the outbox');
    expect(before.status).toBe('degraded');
    const outboxAtKill = before.checks.outbox!;

    await svc.kill9();
    await influxd.resume();
    const killedAt = Date.now();
    const after = await svc.start();
    const restartMs = Date.now() - killedAt;
    // The backlog was sent before the service came up, so the rules engine recovered from complete history.
    expect(after.checks.outbox?.depth).toBe(0);
    expect(after.status).toBe('ok');
    ops = await login(svc.httpPort, 'ops', 'dev-only-operator');
    const active = (await ops.get<{ alerts: AlertView[] }>('/api/alerts?state=active')).alerts.filter((a) => a.rule === 'shed-h2s');
    expect(active, 'the same alert is open and acknowledged after the restart, not raised again').toMatchObject([
      { id: raised.id, zone: 'shed-1', state: 'acknowledged' },
    ]);

    // Straight from InfluxDB: each event once.
    const alerts = (await stored<AlertEvent>(DB, 'alert')).filter((e) => e.rule === 'shed-h2s');
    expect(alerts.map((e) => [e.id, e.state, e.by])).toEqual([
      [raised.id, 'raised', undefined],
      [raised.id, 'acknowledged', 'ops'],
    ]);
    const commands = (await stored<CommandRecord>(DB, 'command')).filter((c) => c.device === 'shed-1-fan');
    expect(commands.map((c) => [c.command.action, c.command.reason, c.outcome])).toEqual([
      ['on', 'rule:shed-h2s', 'sent'],
      ['on', 'rule:shed-h2s', 'acked'],
    ]);
    expect(new Set(commands.map((c) => c.command.id)).size).toBe(1);
    // The reading that fired the rule is there too, once.
    const [h2s] = await influxql(influxd.url, `SELECT "h2s" FROM "telemetry" WHERE "device" = 'shed-1-env'`, { db: DB });
    expect(h2s.series?.[0]?.values.map((v) => v[1])).toEqual([15]);

    await svc.sigterm();
    report('crash-influx-events', { outboxAtKill, restartMs, alertEvents: alerts.length, commandRecords: commands.length });
  }, 60_000); // two start-ups of the real process
});
