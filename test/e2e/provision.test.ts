import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { connectDevice, endClient, tryConnect } from '../helpers/mqtt.js';
import { startTestService } from '../helpers/service.js';

/**
 * SPEC "Configuration file" + issue 2 point 3: `npm run provision` adds a device with a scrypt hash and prints
 * its secret once; the service started on that file lets the device in with that secret and stores its readings.
 */
const dir = mkdtempSync(join(tmpdir(), 'farm-provision-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FARM = `# my farm: this comment must survive provisioning
sites:
  - id: hill
    zones:
      - id: shed-a
        kind: shed
        devices: []
users:
  - { name: admin, role: admin, password: "dev-only-password" }
`;

function provision(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'provision', '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const secretOf = (stdout: string) => stdout.trim().split('\n').pop()!.trim();

describe('npm run provision', () => {
  const file = join(dir, 'farm.yaml');
  writeFileSync(file, FARM);
  const device = [
    '--config',
    file,
    '--site',
    'hill',
    '--zone',
    'shed-b',
    '--kind',
    'shed',
    '--id',
    'shed-b-env',
    '--role',
    'sensor',
    '--metrics',
    'temperature,nh3',
  ];
  let secret = '';

  it('adds the device with only a scrypt hash, keeps the comments, and prints the secret once', async () => {
    const out = await provision(device);
    expect(out.stderr).not.toMatch(/error/i);
    expect(out.code).toBe(0);
    secret = secretOf(out.stdout);
    expect(secret.length).toBeGreaterThanOrEqual(20);

    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# my farm: this comment must survive provisioning');
    expect(text).not.toContain(secret);
    const added = loadFarmConfig(file).sites[0].zones.find((z) => z.id === 'shed-b')!.devices[0];
    expect(added).toMatchObject({ id: 'shed-b-env', role: 'sensor', metrics: ['temperature', 'nh3'] });
    expect(added.secret).toBeUndefined();
    expect(added.secretHash).toMatch(/^scrypt\$/);
  });

  it('refuses to add the same device twice without --rotate, and says how to rotate', async () => {
    const out = await provision(device);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--rotate');
  });

  it('lets the provisioned device connect with its secret and stores what it publishes; a wrong secret is refused', async () => {
    const svc = await startTestService({ config: loadFarmConfig(file) });
    try {
      expect(await tryConnect(svc.mqttPort, 'shed-b-env', 'not-the-secret')).toMatchObject({ connected: false, code: 4 });
      const client = await connectDevice(svc.mqttPort, 'shed-b-env', secret);
      const ts = Date.now() - 60_000;
      await client.publishAsync('farm/hill/shed-b/shed-b-env/telemetry', JSON.stringify({ ts, metrics: { temperature: 17.5, nh3: 9 } }), { qos: 1 });
      await endClient(client);
      const points = await svc.store.raw({ device: 'shed-b-env', from: ts, to: ts + 1 });
      expect(points.map((p) => [p.metric, p.value]).sort()).toEqual([
        ['nh3', 9],
        ['temperature', 17.5],
      ]);
    } finally {
      await svc.cleanup();
    }
  });

  it('--rotate with only --id gives the device a new secret: the old one no longer gets in', async () => {
    const out = await provision(['--config', file, '--id', 'shed-b-env', '--rotate']);
    expect(out.code).toBe(0);
    const rotated = secretOf(out.stdout);
    expect(rotated).not.toBe(secret);
    const svc = await startTestService({ config: loadFarmConfig(file) });
    try {
      expect(await tryConnect(svc.mqttPort, 'shed-b-env', secret, 'shed-b-env')).toMatchObject({ connected: false, code: 4 });
      expect(await tryConnect(svc.mqttPort, 'shed-b-env', rotated, 'shed-b-env')).toEqual({ connected: true });
    } finally {
      await svc.cleanup();
    }
  });

  it('a wrong zone on --rotate names where the device is, exits 2 and leaves the file as it was', async () => {
    const before = readFileSync(file, 'utf8');
    const out = await provision(['--config', file, '--id', 'shed-b-env', '--rotate', '--site', 'hill', '--zone', 'shed-a']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('device shed-b-env is in hill/shed-b, not in hill/shed-a: --rotate needs only --id');
    expect(out.stderr).not.toMatch(/Fix the file/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('provisions a dashboard user with a password hash', async () => {
    const out = await provision(['--config', file, '--user', 'otto', '--role', 'operator']);
    expect(out.code).toBe(0);
    const password = secretOf(out.stdout);
    const user = loadFarmConfig(file).users.find((u) => u.name === 'otto')!;
    expect(user).toMatchObject({ role: 'operator' });
    expect(user.password).toBeUndefined();
    expect(user.passwordHash).toMatch(/^scrypt\$/);
    expect(readFileSync(file, 'utf8')).not.toContain(password);
  });
});
