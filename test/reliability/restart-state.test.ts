import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/ports.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { login, type AlertView, type CommandView } from './api.js';
import { report } from './report.js';

/**
 * What the rules engine decided must survive kill -9 of the real process: open alerts (with their ids and
 * acknowledgement), actuator modes, a sustained condition that was counting towards its `for`, and the
 * command history. Checked the way an operator would: over the HTTP API after logging in, and over MQTT.
 */
const dir = mkdtempSync(join(tmpdir(), 'farm-restart-'));
const configPath = join(dir, 'farm.yaml');
const SUSTAIN_MS = 20_000;
const demo = parse(readFileSync('config/demo-farm.yaml', 'utf8')) as Record<string, unknown>;
// The demo's register file is named relative to the demo farm file: from this copy, name it absolutely.
demo.animals = { ...(demo.animals as object), registerFile: resolve('config/demo-animals.csv') };
writeFileSync(
  configPath,
  stringify({
    ...demo,
    rules: [
      {
        id: 'sustained-ammonia',
        scope: { zone: 'shed-1' },
        when: { metric: 'nh3', above: 20, for: `${SUSTAIN_MS / 1000}s`, clearBelow: 15 },
        actions: [{ alert: { severity: 'warning', message: 'Ammonia {value} ppm in {zone} for 20 s' } }],
      },
      {
        id: 'instant-ammonia',
        scope: { zone: 'shed-2' },
        when: { metric: 'nh3', above: 30, clearBelow: 25 },
        actions: [{ actuate: { type: 'fan', action: 'on' } }, { alert: { severity: 'critical', message: 'Ammonia {value} ppm in {zone}' } }],
      },
    ],
  }),
);

let proc: ServiceProcess | undefined;
const clients: MqttClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function device(port: number, id: string): MqttClient {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: id,
    username: id,
    password: `dev-only-${id}`,
    clean: false,
    reconnectPeriod: 200,
    connectTimeout: 3000,
  });
  c.on('error', () => {}); // reconnects by itself while the service restarts
  clients.push(c);
  return c;
}

/** Publishes one nh3 value every `everyMs` (QoS 1, server-side time), as a live sensor does. */
function sense(c: MqttClient, topic: string, nh3: number, everyMs: number): () => void {
  const timer = setInterval(() => void c.publishAsync(topic, JSON.stringify({ ts: Date.now(), metrics: { nh3 } }), { qos: 1 }).catch(() => {}), everyMs);
  return () => clearInterval(timer);
}

describe('state that survives kill -9', () => {
  it('keeps open alerts and their acknowledgement, actuator modes, a sustained condition in progress and the command history', async () => {
    const ports = await servicePorts();
    const env = { ...ports, DATA_DIR: join(dir, 'data'), FARM_CONFIG: configPath };
    const httpPort = Number(ports.HTTP_PORT);
    proc = spawnService(env);
    await waitHealthy(httpPort, proc);
    let ops = await login(httpPort, 'ops', 'dev-only-operator');

    // An operator takes shed-2's fan into manual and switches shed-1's spray on by hand.
    const mode = await ops.send<{ actuator: { mode: string } }>('POST', '/api/actuators/shed-2-fan/mode', { mode: 'manual' });
    expect(mode).toMatchObject({ status: 200, body: { actuator: { mode: 'manual' } } });
    const cmd = await ops.send<{ command: { id: string } }>('POST', '/api/actuators/shed-1-spray/command', { action: 'on' });
    expect(cmd.status).toBe(202);
    const commandId = cmd.body.command.id;

    // Shed 2's ammonia raises an alert at once; the operator acknowledges it.
    const shed2 = device(Number(ports.MQTT_PORT), 'shed-2-env');
    const stopShed2 = sense(shed2, 'farm/huyang/shed-2/shed-2-env/telemetry', 40, 1000);
    const instant = await waitFor(
      async () => (await ops.get<{ alerts: AlertView[] }>('/api/alerts?state=active')).alerts.find((a) => a.rule === 'instant-ammonia'),
      'the shed-2 alert',
    );
    expect((await ops.send<{ alert: AlertView }>('POST', `/api/alerts/${instant.id}/ack`, {})).body.alert.state).toBe('acknowledged');
    // Stored (history comes from the store, not the engine's memory) before the crash.
    await waitFor(
      async () =>
        (await ops.get<{ alerts: AlertView[] }>('/api/alerts?state=all&from=-1h')).alerts.some((a) => a.id === instant.id && a.state === 'acknowledged') ||
        undefined,
      'the acknowledgement in the alert history',
    );
    await waitFor(
      async () =>
        (await ops.get<{ commands: CommandView[] }>('/api/commands?device=shed-1-spray')).commands.some((c) => c.command.id === commandId) || undefined,
      'the manual command in the history',
    );

    // Shed 1's ammonia goes above 20 and stays there; the rule wants 20 s of it. The process dies 8 s in.
    const shed1 = device(Number(ports.MQTT_PORT), 'shed-1-env');
    const highSince = Date.now();
    const stopShed1 = sense(shed1, 'farm/huyang/shed-1/shed-1-env/telemetry', 25, 500);
    await new Promise((r) => setTimeout(r, 8000));
    expect((await ops.get<{ alerts: AlertView[] }>('/api/alerts?state=active')).alerts.some((a) => a.rule === 'sustained-ammonia')).toBe(false);
    proc.child.kill('SIGKILL');
    await proc.exited;
    const killedAfterMs = Date.now() - highSince;

    proc = spawnService(env);
    await waitHealthy(httpPort, proc);
    const readyAt = Date.now();
    ops = await login(httpPort, 'ops', 'dev-only-operator');

    const active = (await ops.get<{ alerts: AlertView[] }>('/api/alerts?state=active')).alerts;
    expect(
      active.find((a) => a.rule === 'instant-ammonia'),
      'the open alert keeps its id and its acknowledgement',
    ).toMatchObject({ id: instant.id, state: 'acknowledged' });
    const actuators = (await ops.get<{ actuators: { device: string; mode: string }[] }>('/api/actuators')).actuators;
    expect(actuators.find((a) => a.device === 'shed-2-fan')?.mode, 'shed-2-fan is still in manual mode').toBe('manual');
    const sprayCommands = (await ops.get<{ commands: CommandView[] }>('/api/commands?device=shed-1-spray')).commands;
    expect(sprayCommands.map((c) => c.command.id)).toContain(commandId);

    // The sustained condition counts from when ammonia went high, not from the restart.
    const sustained = await waitFor(
      async () => (await ops.get<{ alerts: AlertView[] }>('/api/alerts?state=active')).alerts.find((a) => a.rule === 'sustained-ammonia'),
      'the sustained ammonia alert',
      SUSTAIN_MS + 15_000,
      200,
    );
    const firedAt = Date.now();
    expect(firedAt, 'fired when 20 s of high ammonia were up (or at once on restart if they already were)').toBeLessThanOrEqual(
      Math.max(highSince + SUSTAIN_MS, readyAt) + 5000,
    );
    expect(firedAt, 'did not start counting again at the restart').toBeLessThan(readyAt + SUSTAIN_MS - 3000);
    expect(sustained.zone).toBe('shed-1');

    // Manual mode held through the restart: the rule that wants shed-2's fan on never commanded it.
    const fanCommands = (await ops.get<{ commands: CommandView[] }>('/api/commands?device=shed-2-fan')).commands;
    expect(fanCommands.filter((c) => c.command.reason.startsWith('rule:'))).toEqual([]);

    stopShed1();
    stopShed2();
    report('restart-state', {
      killedAfterMsOfSustain: killedAfterMs,
      restartMs: readyAt - highSince - killedAfterMs,
      sustainedFiredAfterMs: firedAt - highSince,
      sustainMs: SUSTAIN_MS,
    });
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  }, 90_000); // two start-ups of the real process and a 20 s rule
});
