import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { connectDevice, endClient, tryConnect } from '../helpers/mqtt.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { DEMO_CONFIG } from '../helpers/service.js';

/**
 * The whole service as its own process with LOG_LEVEL=trace, its pino output captured from stdout: after
 * logins (right and wrong, and a password typed into the name field), user and password changes, rule edits,
 * devices connecting with right and wrong secrets and every API route read, no password, device secret,
 * password hash or session token appears in the log, nor in any answer of the API.
 */
const config = loadFarmConfig(DEMO_CONFIG);
const PLAIN = [...config.users.map((u) => u.password!), ...config.sites.flatMap((s) => s.zones.flatMap((z) => z.devices.map((d) => d.secret!)))].filter(
  Boolean,
);
const NEW_PASSWORDS = ['nina-night-shift-7', 'ops-rotated-password-9'];
const WRONG = ['wrong-password-4711', 'wrong-device-secret-0815'];

let proc: ServiceProcess;
let ports: { MQTT_PORT: string; HTTP_PORT: string };
let dataDir: string;
let log = '';
const tokens: string[] = [];
const answers: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'farm-logs-'));
  ports = await servicePorts();
  proc = spawnService({
    ...ports,
    HTTP_HOST: '127.0.0.1',
    MQTT_HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    FARM_CONFIG: DEMO_CONFIG,
    LOG_LEVEL: 'trace',
    SIMULATE: 'false',
  });
  proc.child.stdout!.on('data', (d) => (log += d));
  proc.child.stderr!.on('data', (d) => (log += d));
  await waitHealthy(Number(ports.HTTP_PORT), proc);
}, 90_000);

afterAll(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

const base = () => `http://127.0.0.1:${ports.HTTP_PORT}`;

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base() + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  answers.push(text);
  return { status: res.status, text };
}

async function login(username: string, password: string): Promise<string | undefined> {
  const res = await call('POST', '/api/login', { username, password });
  if (res.status !== 200) return undefined;
  const token = JSON.parse(res.text).token as string;
  tokens.push(token);
  return token;
}

describe('logs and answers of the running service', () => {
  it('never contain a password, device secret, password hash or session token', async () => {
    const admin = (await login('admin', 'dev-only-admin'))!;
    const ops = (await login('ops', 'dev-only-operator'))!;
    await login('viewer', 'dev-only-viewer');
    expect(await login('ops', WRONG[0])).toBeUndefined();
    expect(await login('dev-only-admin', 'dev-only-admin')).toBeUndefined(); // the password typed into the name field
    await call('GET', '/api/me', undefined, 'not-a-real-token-but-looks-like-one');

    expect((await call('PUT', '/api/users/nina', { role: 'operator', password: NEW_PASSWORDS[0] }, admin)).status).toBe(200);
    expect((await call('PUT', '/api/users/ops', { role: 'operator', password: NEW_PASSWORDS[1] }, admin)).status).toBe(200);
    expect(await login('nina', NEW_PASSWORDS[0])).toBeDefined();
    expect((await call('PUT', '/api/users/x', { role: 'viewer', password: 'short' }, admin)).status).toBe(400);
    const rules = JSON.parse((await call('GET', '/api/rules', undefined, admin)).text).rules;
    expect((await call('PUT', '/api/rules', rules, admin)).status).toBe(200);
    expect((await call('PUT', '/api/rules', [{ id: 'x', when: { metric: 'nh3', above: 'high' } }], admin)).status).toBe(400);
    expect((await call('POST', '/api/login', '{"username": "admin", "password": ', undefined)).status).toBe(400);
    expect((await call('POST', '/api/actuators/shed-1-fan/command', { action: 'on' }, ops)).status).toBe(401); // its password was changed

    const device = await connectDevice(Number(ports.MQTT_PORT), 'shed-1-env', 'dev-only-shed-1-env');
    await device.publishAsync('farm/huyang/shed-1/shed-1-env/telemetry', JSON.stringify({ metrics: { nh3: 9 } }), { qos: 1 });
    await endClient(device);
    expect((await tryConnect(Number(ports.MQTT_PORT), 'shed-2-env', WRONG[1], 'shed-2-env')).connected).toBe(false);

    const docs = JSON.parse((await call('GET', '/api/docs/json', undefined, admin)).text) as { paths: Record<string, Record<string, unknown>> };
    const reads = Object.entries(docs.paths)
      .filter(([, ops]) => 'get' in ops)
      .map(([path]) => path.replace('{site}', 'xihu-drain'));
    expect(reads.length).toBeGreaterThan(10);
    for (const path of reads) await call('GET', path, undefined, admin);

    proc.child.kill('SIGTERM');
    await proc.exited;

    // The log says what happened (so the test below looks at a real log), without the secrets.
    expect(log).toMatch(/"msg":"failed login"/);
    expect(log).toMatch(/"msg":"user changed"/);
    expect(log).toMatch(/"msg":"rules replaced"/);
    expect(log.split('\n').length).toBeGreaterThan(20); // one line for all development secrets, not one per secret
    const forbidden = [...PLAIN, ...NEW_PASSWORDS, ...WRONG, ...tokens, 'scrypt$'];
    for (const s of forbidden) expect(log.includes(s), `the log contains ${s.slice(0, 12)}…`).toBe(false);
    const all = answers.join('\n');
    for (const s of [...PLAIN, ...NEW_PASSWORDS, ...WRONG, 'scrypt$', 'passwordHash'])
      expect(all.includes(s), `an answer contains ${s.slice(0, 12)}…`).toBe(false);
  }, 90_000);
});
