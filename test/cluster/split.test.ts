import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent, Reading } from '../../core/domain.js';
import { influxql, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { metricValue, metricsOf, SERVICE_PASSWORD, spawnPart, startMosquitto, waitHealthy, type Proc } from './helpers.js';

/**
 * The split topology as separate OS processes against Debian's Mosquitto 2 (password and ACL files generated
 * from the demo farm by npm run mosquitto-config) and a real InfluxDB: ingest x2 (shared subscription), two
 * rules processes partitioned by site, one dashboard. Devices are real mqtt.js clients with their own secrets.
 */
describe('split topology on Mosquitto: ingest x2, rules by site, dashboard as separate processes', () => {
  let dir: string;
  let influx: Influxd;
  let mosquitto: Proc & { port: number };
  const procs: Proc[] = [];
  const http: Record<string, number> = {};
  const devices: MqttClient[] = [];
  let socket: Socket | undefined;
  let token: string;

  const start = async (name: string, part: string, env: Record<string, string> = {}) => {
    http[name] = await freePort();
    const common = {
      MQTT_URL: `mqtt://127.0.0.1:${mosquitto.port}`,
      MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD,
      INFLUX_URL: influx.url,
      INFLUX_DATABASE: 'farm',
      DATA_DIR: join(dir, name),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(http[name]),
      INSTANCE_ID: name,
    };
    const proc = spawnPart(name, part, { ...common, ...env });
    procs.push(proc);
    return proc;
  };
  const device = async (id: string) => {
    const c = await connectDevice(mosquitto.port, id, `dev-only-${id}`);
    devices.push(c);
    return c;
  };
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`http://127.0.0.1:${http.dashboard}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...init.headers },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const count = async (field: string, deviceId: string) => {
    const results = await influxql(influx.url, `SELECT count("${field}") FROM "telemetry" WHERE "device" = '${deviceId}'`, { db: 'farm' });
    return (results[0]?.series?.[0]?.values?.[0]?.[1] as number | undefined) ?? 0;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'farm-cluster-'));
    [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto(join(dir, 'mosquitto'))]);
    const t0 = Date.now();
    const parts = [
      await start('ingest-1', 'ingest'),
      await start('ingest-2', 'ingest'),
      await start('rules-farm', 'rules', { RULES_SITES: 'huyang,tianmu' }),
      await start('rules-drain', 'rules', { RULES_SITES: 'xihu-drain' }),
    ];
    const dashboard = await start('dashboard', 'dashboard', { RPC_TIMEOUT: '2s' });
    await Promise.all(parts.map((p) => waitHealthy(p, http[p.name])));
    // Healthy = connected, and every site owned by exactly one rules process.
    await waitHealthy(dashboard, http.dashboard, (h) => h.status === 'ok');
    console.log(`split topology up in ${Date.now() - t0} ms (influxd and mosquitto before that)`);
    const login = await fetch(`http://127.0.0.1:${http.dashboard}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ops', password: 'dev-only-operator' }),
    });
    token = ((await login.json()) as { token: string }).token;
  });

  afterAll(async () => {
    socket?.disconnect();
    await Promise.all(devices.map((d) => endClient(d).catch(() => undefined)));
    await Promise.all(procs.map((p) => p.stop()));
    await mosquitto?.stop();
    await influx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every reading exactly once, split between the two ingest processes', async () => {
    const shed = await device('shed-2-env');
    const pipe = await device('pipe-02-level');
    const t0 = Date.now() - 60_000;
    const N = 150;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      sends.push(
        shed.publishAsync('farm/huyang/shed-2/shed-2-env/telemetry', JSON.stringify({ ts: t0 + i * 10, metrics: { temperature: 15, humidity: 50, nh3: 5 } }), {
          qos: 1,
        }),
      );
      sends.push(
        pipe.publishAsync('farm/xihu-drain/pipe-02/pipe-02-level/telemetry', JSON.stringify({ ts: t0 + i * 10, metrics: { fill: 10, water_level: 0.1 } }), {
          qos: 1,
        }),
      );
    }
    await Promise.all(sends);
    await waitFor(
      async () => ((await count('temperature', 'shed-2-env')) === N && (await count('fill', 'pipe-02-level')) === N) || undefined,
      `${N} + ${N} readings in InfluxDB`,
      45_000,
      250,
    );

    const accepted = await waitFor(async () => {
      const a = metricValue(await metricsOf(http['ingest-1']), 'farm_readings_accepted_total') ?? 0;
      const b = metricValue(await metricsOf(http['ingest-2']), 'farm_readings_accepted_total') ?? 0;
      return a + b === 2 * N ? [a, b] : undefined;
    }, 'the ingest processes to count every reading once');
    // Mosquitto hands a shared subscription's messages to its members in turn.
    expect(accepted[0]).toBeGreaterThan(N / 4);
    expect(accepted[1]).toBeGreaterThan(N / 4);
    // Nothing stored twice: a duplicate would have shown up as a count above N.
    expect(await count('temperature', 'shed-2-env')).toBe(N);
  });

  it('a threshold crossed reaches the rules process of that site, the actuator gets its command and the dashboard shows it live', async () => {
    const fan = await device('shed-1-fan');
    const commands: { action: string; reason: string; id: string }[] = [];
    fan.on('message', (_topic, payload) => {
      const cmd = JSON.parse(payload.toString()) as { action: 'on' | 'off'; reason: string; id: string };
      commands.push(cmd);
      fan.publish('farm/huyang/shed-1/shed-1-fan/state', JSON.stringify({ state: cmd.action, ack: cmd.id }), { qos: 1, retain: true });
    });
    await fan.subscribeAsync('farm/huyang/shed-1/shed-1-fan/cmd', { qos: 1 });

    const live = { readings: [] as Reading[], alerts: [] as AlertEvent[], actuators: [] as { device: string; state?: string }[] };
    socket = io(`http://127.0.0.1:${http.dashboard}`, { auth: { token }, transports: ['websocket'] });
    socket.on('reading', (batch: Reading[]) => live.readings.push(...batch));
    socket.on('alert', (a: AlertEvent) => live.alerts.push(a));
    socket.on('actuator', (a: { device: string; state?: string }) => live.actuators.push(a));
    const joined = await socket.timeout(10_000).emitWithAck('join', { sites: ['huyang', 'xihu-drain'] });
    expect(joined).toMatchObject({ ok: true });

    const env = await device('shed-1-env');
    await env.publishAsync('farm/huyang/shed-1/shed-1-env/telemetry', JSON.stringify({ metrics: { temperature: 15, humidity: 50, nh3: 5, h2s: 15 } }), {
      qos: 1,
    });

    await waitFor(() => commands.find((c) => c.action === 'on' && c.reason === 'rule:shed-h2s'), 'the fan to be commanded on by rule shed-h2s', 30_000);
    await waitFor(() => live.readings.find((r) => r.device === 'shed-1-env' && r.metrics.h2s === 15), 'the reading on the dashboard socket', 30_000);
    await waitFor(() => live.alerts.find((a) => a.rule === 'shed-h2s' && a.state === 'raised'), 'the h2s alert on the dashboard socket', 30_000);
    await waitFor(() => live.actuators.find((a) => a.device === 'shed-1-fan' && a.state === 'on'), "the fan's confirmed state on the dashboard socket", 30_000);

    // The other partition: a drain reading is judged by the drain rules process.
    const pipe = await device('pipe-01-level');
    // Pipe 01 (storm, DN800, invert 2.5 m deep) surcharged to 1.6 m: within 1 m of the street, red.
    await pipe.publishAsync('farm/xihu-drain/pipe-01/pipe-01-level/telemetry', JSON.stringify({ metrics: { fill: 100, water_level: 1.6 } }), { qos: 1 });
    await waitFor(
      () => live.alerts.find((a) => a.rule === 'storm-pipe-level' && a.level === 'red'),
      'the red pipe-level alert on the dashboard socket',
      30_000,
    );

    // The REST API answers from both rules processes (MQTT request/response) ...
    const alerts = await waitFor(async () => {
      const { body } = await api('/api/alerts?state=active');
      const list = body.alerts as AlertEvent[];
      return list.some((a) => a.rule === 'shed-h2s') && list.some((a) => a.rule === 'storm-pipe-level') ? list : undefined;
    }, 'both alerts from GET /api/alerts');
    expect(alerts.every((a) => a.state !== 'cleared')).toBe(true);
    const { body: acts } = await api('/api/actuators');
    expect((acts.actuators as { device: string; state?: string }[]).find((a) => a.device === 'shed-1-fan')).toMatchObject({ state: 'on' });

    // ... and an operator's command goes to the rules process owning the site, then to the device.
    const spray = await device('shed-1-spray');
    const sprayCmds: { action: string; reason: string }[] = [];
    spray.on('message', (_t, p) => sprayCmds.push(JSON.parse(p.toString())));
    await spray.subscribeAsync('farm/huyang/shed-1/shed-1-spray/cmd', { qos: 1 });
    const sent = await api('/api/actuators/shed-1-spray/command', { method: 'POST', body: JSON.stringify({ action: 'on' }) });
    expect(sent.status).toBe(202);
    await waitFor(() => sprayCmds.find((c) => c.action === 'on' && c.reason === 'manual:ops'), 'the manual command at the spray');
    const unknown = await api('/api/actuators/no-such-device/command', { method: 'POST', body: JSON.stringify({ action: 'on' }) });
    expect(unknown.status).toBe(404);

    const rulesMetrics = await metricsOf(http['rules-farm']);
    expect(metricValue(rulesMetrics, 'farm_rule_firings_total', { rule: 'shed-h2s' })).toBe(1);
    expect(metricValue(await metricsOf(http['rules-drain']), 'farm_rule_firings_total', { rule: 'shed-h2s' })).toBeUndefined();
    expect(metricValue(await metricsOf(http.dashboard), 'farm_socketio_clients')).toBe(1);
  });

  it('a reading sent twice is stored, evaluated and shown once, whichever ingest process each copy lands on', async () => {
    const gauge = await device('rain-3-gauge');
    const sum = async (name: string, metric: string) => metricValue(await metricsOf(http[name]), metric) ?? 0;
    const before = {
      dups:
        (await sum('ingest-1', 'farm_readings_duplicate_total')) +
        (await sum('ingest-2', 'farm_readings_duplicate_total')) +
        (await sum('rules-drain', 'farm_readings_duplicate_total')),
    };
    const shown: Reading[] = [];
    socket!.on('reading', (batch: Reading[]) => shown.push(...batch.filter((r) => r.device === 'rain-3-gauge')));
    const t0 = Date.now() - 30 * 60_000;
    // Four 3 mm readings, each published twice back to back: Mosquitto hands consecutive messages of the shared
    // subscription to the two ingest processes in turn, so the copies land on different processes.
    for (let i = 0; i < 4; i++) {
      const payload = JSON.stringify({ ts: t0 + i * 60_000, metrics: { rain_mm: 3 } });
      await gauge.publishAsync('farm/xihu-drain/rain-3/rain-3-gauge/telemetry', payload, { qos: 1 });
      await gauge.publishAsync('farm/xihu-drain/rain-3/rain-3-gauge/telemetry', payload, { qos: 1 });
    }
    const counted = await waitFor(
      async () => {
        const d = {
          i1: await sum('ingest-1', 'farm_readings_duplicate_total'),
          i2: await sum('ingest-2', 'farm_readings_duplicate_total'),
          rules: await sum('rules-drain', 'farm_readings_duplicate_total'),
        };
        return d.i1 + d.i2 + d.rules - before.dups === 4 ? d : undefined;
      },
      'four duplicates counted where they were stopped (an ingest process, or the rules process owning the site)',
      30_000,
    );
    console.log('duplicates stopped at', counted);
    await gauge.publishAsync('farm/xihu-drain/rain-3/rain-3-gauge/telemetry', JSON.stringify({ ts: t0 + 10 * 60_000, metrics: { rain_mm: 0 } }), { qos: 1 });
    await waitFor(() => shown.find((r) => r.ts === t0 + 10 * 60_000), 'the marker reading on the dashboard socket', 30_000);
    await waitFor(async () => ((await count('rain_mm', 'rain-3-gauge')) === 5 ? true : undefined), 'five distinct rain points in InfluxDB', 30_000);
    // Stored once: InfluxDB keeps one point per series and time; the dashboard showed 12 mm, not 24.
    expect(await count('rain_mm', 'rain-3-gauge')).toBe(5);
    expect(shown.reduce((mm, r) => mm + (r.metrics.rain_mm ?? 0), 0)).toBe(12);
    // Evaluated once: 24 mm would raise the demo's blue "Heavy rain" grade (20 mm in 1 h).
    const { body } = await api('/api/alerts?state=active');
    expect((body.alerts as AlertEvent[]).filter((a) => a.device === 'rain-3-gauge')).toEqual([]);
  });

  it('a rules process claiming a site another one owns refuses to start and says why', async () => {
    const intruder = await start('rules-intruder', 'rules', { RULES_SITES: 'xihu-drain' });
    const { code } = await intruder.exited;
    expect(code).toBe(2);
    expect(intruder.output()).toMatch(/another rules process already owns xihu-drain \(owned by rules-drain\)/);
  });

  it('the dashboard answers 503 with the reason when a rules process hangs or is gone', async () => {
    const farmRules = procs.find((p) => p.name === 'rules-farm')!;
    farmRules.child.kill('SIGSTOP'); // connected but not answering
    try {
      const hung = await api('/api/actuators/shed-1-fan/command', { method: 'POST', body: JSON.stringify({ action: 'off' }) });
      expect(hung.status).toBe(503);
      expect(hung.body).toMatchObject({ error: 'RULES_UNAVAILABLE' });
      expect(String(hung.body.message)).toMatch(/rules process rules-farm did not answer "command" within 2000 ms/);
    } finally {
      farmRules.child.kill('SIGCONT');
    }
    const drainRules = procs.find((p) => p.name === 'rules-drain')!;
    await drainRules.stop();
    expect(drainRules.child.exitCode).toBe(0);
    const health = await waitHealthy(
      procs.find((p) => p.name === 'dashboard')!,
      http.dashboard,
      (h) => h.status === 'degraded',
    );
    expect(health.checks.rules).toMatchObject({ unowned: ['xihu-drain'] });
    const gone = await api('/api/actuators/sump-1-pump/command', { method: 'POST', body: JSON.stringify({ action: 'on' }) });
    expect(gone.status).toBe(503);
    expect(String(gone.body.message)).toMatch(/no rules process owns site xihu-drain/);
  });

  it('a device cannot publish readings as another device through Mosquitto', async () => {
    const shed3 = await device('shed-3-env');
    const forged = await shed3.publishAsync('farm/huyang/shed-4/shed-4-env/telemetry', JSON.stringify({ metrics: { temperature: 30 } }), { qos: 1 }).then(
      () => 'accepted',
      (err: Error) => err.message,
    );
    // MQTT 3.1.1 has no negative PUBACK: Mosquitto acknowledges it and drops it (the ACL denies the write).
    expect(forged).toBe('accepted');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await count('temperature', 'shed-4-env')).toBe(0);
  });

  it('every process stops cleanly on SIGTERM', async () => {
    const running = procs.filter((p) => p.child.exitCode === null);
    expect(running.map((p) => p.name).sort()).toEqual(['dashboard', 'ingest-1', 'ingest-2', 'rules-farm']);
    await Promise.all(running.map((p) => p.stop()));
    for (const p of running) expect(p.child.exitCode, `${p.name}:\n${p.output().slice(-1500)}`).toBe(0);
  });
});
