import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { parse, stringify } from 'yaml';
import { webhookStandIn, type Receiver } from '../notifications/receivers.js';
import { SERVICE_PASSWORD, spawnPart, waitHealthy, type Proc } from './helpers.js';

/**
 * The split topology without Mosquitto or InfluxDB: the embedded aedes broker as its own process
 * (--only broker, MQTT 3.1.1, so one ingest process with a plain subscription and request/response carried in
 * the message body) and the embedded SQLite store in one DATA_DIR shared by ingest, rules and dashboard
 * (WAL, busy_timeout; one host only). The farm is the demo farm with a notification channel: a real local
 * webhook receiver standing in for a duty phone's gateway.
 */
describe('split topology on the embedded broker and the shared SQLite store', () => {
  let dir: string;
  let mqttPort: number;
  const procs: Proc[] = [];
  const http: Record<string, number> = {};
  const devices: MqttClient[] = [];
  let token: string;
  let adminToken: string;
  let hook: Receiver;

  const start = async (name: string, part: string, env: Record<string, string> = {}) => {
    http[name] = await freePort();
    const proc = spawnPart(name, part, {
      MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
      MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD,
      DATA_DIR: dir,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(http[name]),
      INSTANCE_ID: name,
      FARM_CONFIG: join(dir, 'farm.yaml'),
      NOTIFY_GROUP_WAIT: '200ms',
      PUBLIC_URL: 'http://farm.test',
      ...env,
    });
    procs.push(proc);
    return proc;
  };
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`http://127.0.0.1:${http.dashboard}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'farm-split-embedded-'));
    hook = await webhookStandIn();
    const demo = parse(readFileSync('config/demo-farm.yaml', 'utf8')) as Record<string, unknown>;
    const animals = { ...(demo.animals as object), registerFile: resolve('config/demo-animals.csv') };
    writeFileSync(
      join(dir, 'farm.yaml'),
      stringify({
        ...demo,
        animals,
        channels: [{ id: 'duty-hook', type: 'webhook', url: `${hook.url}/duty` }],
        notifications: [{ match: { site: 'huyang' }, channels: ['duty-hook'] }],
      }),
    );
    mqttPort = await freePort();
    const broker = await start('broker', 'broker', { MQTT_PORT: String(mqttPort), MQTT_HOST: '127.0.0.1' });
    await waitHealthy(broker, http.broker);
    const parts = [await start('ingest', 'ingest'), await start('rules', 'rules'), await start('dashboard', 'dashboard')];
    await Promise.all(parts.map((p) => waitHealthy(p, http[p.name], (h) => p.name !== 'dashboard' || h.status === 'ok')));
    const login = await fetch(`http://127.0.0.1:${http.dashboard}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ops', password: 'dev-only-operator' }),
    });
    token = ((await login.json()) as { token: string }).token;
    const admin = await fetch(`http://127.0.0.1:${http.dashboard}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'dev-only-admin' }),
    });
    adminToken = ((await admin.json()) as { token: string }).token;
  });

  afterAll(async () => {
    await Promise.all(devices.map((d) => endClient(d).catch(() => undefined)));
    for (const p of [...procs].reverse()) await p.stop();
    await hook?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores readings, actuates by rule and answers the API across processes', async () => {
    const fan = await connectDevice(mqttPort, 'shed-2-fan', 'dev-only-shed-2-fan');
    devices.push(fan);
    const commands: { action: string; reason: string; id: string }[] = [];
    fan.on('message', (_t, p) => {
      const cmd = JSON.parse(p.toString());
      commands.push(cmd);
      fan.publish('farm/huyang/shed-2/shed-2-fan/state', JSON.stringify({ state: cmd.action, ack: cmd.id }), { qos: 1, retain: true });
    });
    await fan.subscribeAsync('farm/huyang/shed-2/shed-2-fan/cmd', { qos: 1 });
    const env = await connectDevice(mqttPort, 'shed-2-env', 'dev-only-shed-2-env');
    devices.push(env);
    const t0 = Date.now() - 30_000;
    for (let i = 0; i < 20; i++)
      await env.publishAsync(
        'farm/huyang/shed-2/shed-2-env/telemetry',
        JSON.stringify({ ts: t0 + i * 1000, metrics: { temperature: 15, humidity: 50, nh3: 5 } }),
        { qos: 1 },
      );
    await env.publishAsync('farm/huyang/shed-2/shed-2-env/telemetry', JSON.stringify({ metrics: { temperature: 15, humidity: 50, nh3: 5, h2s: 20 } }), {
      qos: 1,
    });

    await waitFor(() => commands.find((c) => c.action === 'on' && c.reason === 'rule:shed-h2s'), 'the fan commanded by the rules process', 30_000);
    // Written by the ingest process, read by the dashboard process from the same SQLite file.
    const history = await waitFor(async () => {
      const { body } = await api(`/api/readings?device=shed-2-env&metric=temperature&from=${t0 - 1}&to=${t0 + 25_000}&every=1s`);
      const series = (body.series as { buckets: { count: number }[] }[] | undefined) ?? [];
      const n = series.flatMap((s) => s.buckets).reduce((sum, b) => sum + b.count, 0);
      return n === 20 ? n : undefined;
    }, 'twenty stored readings through the dashboard API');
    expect(history).toBe(20);
    const alerts = await waitFor(async () => {
      const { body } = await api('/api/alerts?state=active');
      return (body.alerts as { rule: string }[]).find((a) => a.rule === 'shed-h2s');
    }, 'the alert from the rules process over request/response (MQTT 3.1.1)');
    expect(alerts).toBeDefined();
    const { body: acts } = await api('/api/actuators');
    expect((acts.actuators as { device: string; state?: string }[]).find((a) => a.device === 'shed-2-fan')).toMatchObject({ state: 'on' });
  });

  it('notifications run in the rules process: the alert reaches the channel, and the dashboard lists deliveries, silences and tests channels over request/response', async () => {
    const alert = await waitFor(async () => {
      const { body } = await api('/api/alerts?state=active');
      return (body.alerts as { id: string; rule: string }[]).find((a) => a.rule === 'shed-h2s');
    }, 'the h2s alert');
    const received = await hook.waitFor(1, 20_000);
    expect(received.flatMap((r) => r.body.alerts.map((a: { alert: { id: string } }) => a.alert.id))).toContain(alert.id);
    const deliveries = await waitFor(async () => {
      const { body } = await api(`/api/notifications?alert=${encodeURIComponent(alert.id)}`);
      const list = body.deliveries as { channel: string; outcome: string; id: string }[];
      return list.some((d) => d.outcome === 'sent') ? list : undefined;
    }, 'the delivery recorded in the rules process');
    expect(deliveries[0]).toMatchObject({ channel: 'duty-hook', outcome: 'sent', id: expect.stringMatching(/^rules:/) });

    const made = await api('/api/silences', {
      method: 'POST',
      body: JSON.stringify({ match: { site: 'huyang', zone: 'shed-2' }, forMinutes: 30, reason: 'cleaning shed 2' }),
    });
    expect(made.status).toBe(201);
    const silence = made.body.silence as { id: string };
    const { body: active } = await api('/api/alerts?state=active');
    expect((active.alerts as { id: string; silence?: { id: string } }[]).find((a) => a.id === alert.id)?.silence?.id).toBe(silence.id);
    const ended = await fetch(`http://127.0.0.1:${http.dashboard}/api/silences/${silence.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await ended.json()) as { silence: unknown }).silence).toMatchObject({ endedBy: 'ops' });

    const tested = await api('/api/channels/duty-hook/test', { method: 'POST', body: '{}', headers: { authorization: `Bearer ${adminToken}` } });
    expect(tested.status).toBe(200);
    expect(tested.body.delivery).toMatchObject({ channel: 'duty-hook', kind: 'test', outcome: 'sent' });
    expect((await api('/api/channels/nowhere/test', { method: 'POST', body: '{}', headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(404);
  });

  it('an unknown part, or a part without MQTT_URL, stops with exit code 2 and says what to do', async () => {
    const bogus = spawnPart('bogus', 'bogus', {});
    expect((await bogus.exited).code).toBe(2);
    expect(bogus.output()).toMatch(/--only bogus: expected one of broker, ingest, rules, dashboard, simulate/);
    const noUrl = spawnPart('no-url', 'ingest', { MQTT_URL: '', DATA_DIR: join(dir, 'no-url') });
    expect((await noUrl.exited).code).toBe(2);
    expect(noUrl.output()).toMatch(/set MQTT_URL/);
  });
});
