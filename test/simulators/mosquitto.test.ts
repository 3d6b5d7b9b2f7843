import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { METRICS } from '../../core/metrics-catalog.js';
import { parseDeviceTopic } from '../../core/topics.js';
import { INSTALL_HINT, mosquittoInstalled, startMosquitto, type Mosquitto } from './mosquitto.js';
import { waitUntil } from './test-broker.js';

/**
 * `npm run simulate` against a real Mosquitto 2 (password file by mosquitto_passwd, per-device ACL as in the
 * SPEC): the simulator is a set of ordinary MQTT clients that any broker accepts, and its payloads are the
 * SPEC's. A service-like client watches everything and commands a fan.
 */
const SERVICE = { username: 'farm-service', password: 'service-secret-test' };
const HASHED = 'scrypt$16384$8$1$c2FsdA==$aGFzaA=='; // the farm file holds only a hash for this device

const devices = [
  { id: 'shed-1-env', role: 'sensor', secret: 'env-secret-1', metrics: ['temperature', 'humidity', 'nh3', 'h2s', 'co2'] },
  { id: 'shed-1-fan', role: 'actuator', type: 'fan', secret: 'fan-secret-1' },
  { id: 'shed-1-spray', role: 'actuator', type: 'spray', secret: 'spray-secret-1' },
  { id: 'shed-1-shutter', role: 'actuator', type: 'shutter', secret: 'shutter-secret-1' },
];
const farmFile = {
  sites: [
    { id: 'huyang', zones: [{ id: 'shed-1', kind: 'shed', attributes: { headCount: 320, areaM2: 600 }, devices }] },
    {
      id: 'xihu-drain',
      zones: [
        {
          id: 'rain-1',
          kind: 'drain',
          attributes: { type: 'rain-gauge' },
          devices: [{ id: 'rain-1-gauge', role: 'sensor', secretHash: HASHED, metrics: ['rain_mm'] }],
        },
        // Its secret in the farm file is not the one Mosquitto knows: it must be refused and reported.
        {
          id: 'pipe-01',
          kind: 'drain',
          attributes: { type: 'pipe', diameterM: 0.8 },
          devices: [{ id: 'pipe-01-level', role: 'sensor', secret: 'stale-secret-0', metrics: ['water_level', 'fill', 'flow'] }],
        },
      ],
    },
  ],
};

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

let broker: Mosquitto | undefined;
let watcher: MqttClient | undefined;
let dir: string;
const seen: Seen[] = [];
let run: { code: number; stdout: string; stderr: string };
let commandId: string;

function simulate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'simulators/cli.ts', ...args],
      { env: { ...process.env, LOG_LEVEL: 'error' }, timeout: 45_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  if (!mosquittoInstalled()) {
    if (process.env.CI === 'true') throw new Error(INSTALL_HINT);
    return;
  }
  broker = await startMosquitto({
    [SERVICE.username]: SERVICE.password,
    'shed-1-env': 'env-secret-1',
    'shed-1-fan': 'fan-secret-1',
    'shed-1-spray': 'spray-secret-1',
    'shed-1-shutter': 'shutter-secret-1',
    'rain-1-gauge': 'gauge-secret-1',
    'pipe-01-level': 'pipe-secret-1',
  });
  dir = mkdtempSync(join(tmpdir(), 'sim-mosq-'));
  writeFileSync(join(dir, 'farm.yaml'), stringify(farmFile));
  writeFileSync(join(dir, 'secrets.yaml'), stringify({ 'rain-1-gauge': 'gauge-secret-1' }));

  watcher = mqtt.connect(broker.url, { ...SERVICE, clientId: 'farm-service', reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    watcher!.once('connect', () => resolve());
    watcher!.once('error', reject);
  });
  watcher.on('message', (topic, payload, packet) => {
    seen.push({ topic, payload: payload.toString(), retain: packet.retain });
    // Like the service: once the fan has reported its state, command it.
    if (topic === 'farm/huyang/shed-1/shed-1-fan/state' && !commandId) {
      commandId = `cmd-${Date.now()}`;
      watcher!.publish('farm/huyang/shed-1/shed-1-fan/cmd', JSON.stringify({ id: commandId, action: 'set', value: 55, reason: 'manual:ops', ts: Date.now() }), {
        qos: 1,
      });
    }
  });
  await watcher.subscribeAsync('farm/#', { qos: 1 });

  run = await simulate([
    ...['--scenario', 'ammonia-buildup', '--speed', '600', '--duration', '20m', '--report-every', '30s', '--seed', '3', '--start', '2025-11-20T10:00:00+08:00'],
    ...['--config', join(dir, 'farm.yaml'), '--secrets', join(dir, 'secrets.yaml'), '--broker', broker.url],
  ]);
}, 60_000);

afterAll(async () => {
  watcher?.end(true);
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.runIf(mosquittoInstalled() || process.env.CI === 'true')('the simulator against a real Mosquitto', () => {
  it('plays the scenario with each device logged in under its own name, and reports the device Mosquitto refused', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Finished scenario ammonia-buildup/);
    expect(run.stderr).toMatch(/devices \d\/6 connected \| sent \d+/);
    // The wrong secret: refused at CONNECT (not authorised), counted, named, and the others carry on.
    expect(run.stdout).toMatch(/errors\s+[1-9]\d* \(last: pipe-01-level: .*(Not authorized|Bad username or password)/i);
    expect(run.stdout + run.stderr).toMatch(/broker refused pipe-01-level .*check its secret/);
    expect(seen.some((m) => m.topic.includes('/pipe-01-level/'))).toBe(false);
  });

  it("every reading reaches the subscriber on the device's own topic as SPEC telemetry: none dropped by the ACL", () => {
    const telemetry = seen.filter((m) => m.topic.endsWith('/telemetry'));
    const reported = Number(/\((\d+) telemetry/.exec(run.stdout)?.[1]);
    expect(reported).toBeGreaterThan(70); // two sensors, a reading each 30 simulated seconds for 20 minutes
    expect(telemetry).toHaveLength(reported);
    expect(new Set(telemetry.map((m) => parseDeviceTopic('farm', m.topic)?.device))).toEqual(new Set(['shed-1-env', 'rain-1-gauge']));
    for (const m of telemetry) {
      const body = JSON.parse(m.payload) as { ts: number; metrics: Record<string, number> };
      expect(Object.keys(body).sort()).toEqual(['metrics', 'ts']);
      expect(Number.isInteger(body.ts)).toBe(true);
      for (const [name, value] of Object.entries(body.metrics)) {
        expect(value).toBeGreaterThanOrEqual(METRICS[name].min);
        expect(value).toBeLessThanOrEqual(METRICS[name].max);
      }
    }
    // The scenario, not random numbers: left alone this closed shed passes 20 ppm NH3 within 10 minutes
    // (scenarios.test.ts), but the fan the watcher switched on at the start keeps it below.
    const nh3 = telemetry.filter((m) => m.topic.includes('shed-1-env')).map((m) => (JSON.parse(m.payload) as { metrics: { nh3: number } }).metrics.nh3);
    expect(nh3[0]).toBeGreaterThan(12);
    expect(Math.max(...nh3)).toBeLessThan(20);
  });

  it('devices announce themselves online and leave offline (retained), and the fan acknowledges a command with its state', async () => {
    for (const d of ['shed-1-env', 'shed-1-fan', 'shed-1-spray', 'shed-1-shutter', 'rain-1-gauge']) {
      expect(
        seen.filter((m) => m.topic.endsWith(`/${d}/status`)).map((m) => m.payload),
        d,
      ).toEqual(['online', 'offline']);
    }
    const ack = seen.find((m) => m.topic === 'farm/huyang/shed-1/shed-1-fan/state' && m.payload.includes(commandId));
    expect(JSON.parse(ack!.payload)).toMatchObject({ state: 'on', value: 55, ack: commandId, ts: expect.any(Number) });
    // What a dashboard connecting later sees: the retained last words of each device.
    const late = mqtt.connect(broker!.url, { ...SERVICE, clientId: 'farm-service-late', reconnectPeriod: 0 });
    const retained = new Map<string, string>();
    late.on('message', (topic, payload, packet) => packet.retain && retained.set(topic, payload.toString()));
    await late.subscribeAsync('farm/#', { qos: 1 });
    await waitUntil(() => retained.size >= 8 && retained, 'retained status and states');
    late.end(true);
    expect(retained.get('farm/huyang/shed-1/shed-1-env/status')).toBe('offline');
    expect(JSON.parse(retained.get('farm/huyang/shed-1/shed-1-fan/state')!)).toMatchObject({ state: 'on', value: 55, ack: commandId });
    expect(JSON.parse(retained.get('farm/huyang/shed-1/shed-1-spray/state')!)).toMatchObject({ state: 'off', value: 0 });
    expect(JSON.parse(retained.get('farm/huyang/shed-1/shed-1-shutter/state')!)).toMatchObject({ state: 'off', value: 0 }); // closed up
  });
});
