import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFarmReloader, type FarmReloader } from '../../app/reload.js';
import { loadFarmConfig } from '../../core/config/load.js';
import { connectDevice, tryConnect } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { startTestService } from '../helpers/service.js';

/**
 * The farm file reloaded while the service runs, with real MQTT devices: on a change to the file and on SIGHUP.
 * Unchanged devices keep their connection, removed ones are disconnected, a changed secret takes effect, a new
 * device can log in, users follow the file, and an invalid edit is refused with a log line while the service runs on.
 */
function farmYaml(devices: Record<string, string>, extra = ''): string {
  const lines = Object.entries(devices).map(([id, secret]) => `          - { id: ${id}, role: sensor, secret: "${secret}" }`);
  return `sites:
  - id: farm-a
    timezone: Asia/Shanghai
    zones:
      - id: shed-1
        kind: ${extra === 'bad-kind' ? 'barn' : 'shed'}
        devices:
${lines.join('\n')}
users:
  - { name: admin, role: admin, password: "dev-only-admin" }
${extra === 'new-user' ? '  - { name: night-shift, role: viewer, password: "dev-only-night" }\n' : ''}`;
}

describe('reloading the farm file', () => {
  let dir: string;
  let file: string;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let reloader: FarmReloader;
  const logs: { msg: string; level: number }[] = [];
  const reloads: string[] = [];
  const clients: MqttClient[] = [];

  /** Replaces the file as an editor does (new file renamed over the old one). */
  const save = (text: string) => {
    writeFileSync(`${file}.new`, text);
    renameSync(`${file}.new`, file);
  };
  const connect = async (id: string, secret: string) => {
    const c = await connectDevice(service.mqttPort, id, secret);
    clients.push(c);
    return c;
  };
  const closedCount = (c: MqttClient) => {
    let n = 0;
    c.on('close', () => n++);
    return () => n;
  };
  const login = (username: string, password: string) =>
    fetch(`http://127.0.0.1:${service.httpPort}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    }).then((r) => r.status);
  const accepted = async (device: string, value: number) => {
    const latest = await service.store.latest({ device });
    return latest.some((l) => l.metric === 'temperature' && l.value === value) || undefined;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'farm-reload-'));
    file = join(dir, 'farm.yaml');
    save(farmYaml({ a: 'dev-only-secret-a', b: 'dev-only-secret-b', c: 'dev-only-secret-c' }));
    service = await startTestService({ config: loadFarmConfig(file) });
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string; level: number }) });
    reloader = createFarmReloader({
      path: file,
      logger,
      apply: async (next) => {
        const changes = await service.reloadFarm(next);
        reloads.push(JSON.stringify(changes.devices));
        return changes;
      },
      settleMs: 100,
    });
  });

  afterAll(async () => {
    reloader?.stop();
    for (const c of clients) c.end(true);
    await service?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('on a change to the file: keeps unchanged devices connected, disconnects removed and changed ones, takes new secrets and devices', async () => {
    const a = await connect('a', 'dev-only-secret-a');
    const b = await connect('b', 'dev-only-secret-b');
    const c = await connect('c', 'dev-only-secret-c');
    const [aClosed, bClosed, cClosed] = [a, b, c].map(closedCount);
    expect(await tryConnect(service.mqttPort, 'd', 'dev-only-secret-d', 'd/probe')).toMatchObject({ connected: false, code: 4 });

    save(farmYaml({ a: 'dev-only-secret-a', b: 'dev-only-secret-b2', d: 'dev-only-secret-d' }));
    await waitFor(() => reloads.length === 1 || undefined, 'the reload after the file changed');
    expect(JSON.parse(reloads[0])).toEqual({ added: ['d'], removed: ['c'], changed: ['b'] });
    await waitFor(() => (bClosed() > 0 && cClosed() > 0) || undefined, 'b and c disconnected');

    // a kept its connection throughout and its readings are still taken.
    a.publish('farm/farm-a/shed-1/a/telemetry', JSON.stringify({ metrics: { temperature: 21.5 } }), { qos: 1 });
    await waitFor(() => accepted('a', 21.5), 'the reading of a, sent after the reload');
    expect(aClosed()).toBe(0);
    expect(a.connected).toBe(true);

    expect(await tryConnect(service.mqttPort, 'c', 'dev-only-secret-c', 'c/probe')).toMatchObject({ connected: false, code: 4 });
    expect(await tryConnect(service.mqttPort, 'b', 'dev-only-secret-b', 'b/probe')).toMatchObject({ connected: false, code: 4 });
    const b2 = await connect('b', 'dev-only-secret-b2');
    const d = await connect('d', 'dev-only-secret-d');
    d.publish('farm/farm-a/shed-1/d/telemetry', JSON.stringify({ metrics: { temperature: 19.25 } }), { qos: 1 });
    await waitFor(() => accepted('d', 19.25), 'the reading of the new device d');
    expect(b2.connected).toBe(true);
  });

  it('refuses an invalid edit with one clear log line and keeps running on the configuration it had', async () => {
    const before = reloads.length;
    save(farmYaml({ a: 'dev-only-secret-a', d: 'dev-only-secret-d' }, 'bad-kind'));
    await waitFor(() => logs.find((l) => l.msg.startsWith('farm file change refused')), 'the refusal');
    const refusal = logs.find((l) => l.msg.startsWith('farm file change refused'))!;
    expect(refusal.level).toBe(50);
    expect(refusal.msg).toMatch(/^farm file change refused, the running configuration stays: sites\[0\]\.zones\[0\]\.kind: /);
    expect(reloads).toHaveLength(before);
    // b (removed by the refused edit) still gets in: the old configuration stands.
    expect((await tryConnect(service.mqttPort, 'b', 'dev-only-secret-b2', 'b/probe')).connected).toBe(true);
  });

  it('on SIGHUP: reads the file again; users follow it (a new user can log in)', async () => {
    expect(await login('night-shift', 'dev-only-night')).toBe(401);
    const before = reloads.length;
    // Written without the watcher noticing in time does not matter: SIGHUP reads it now.
    save(farmYaml({ a: 'dev-only-secret-a', b: 'dev-only-secret-b2', d: 'dev-only-secret-d' }, 'new-user'));
    process.kill(process.pid, 'SIGHUP');
    await waitFor(async () => (await login('night-shift', 'dev-only-night')) === 200 || undefined, 'the new user logs in');
    expect(reloads.length).toBeGreaterThan(before);
  });
});
