import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient, tryConnect } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { SERVICE_PASSWORD, startMosquitto, type Proc } from './helpers.js';

/**
 * A device provisioned with `npm run provision -- ... --mosquitto-dir DIR` can log in to Mosquitto with the
 * secret printed once (only its scrypt hash is in the farm file), after Mosquitto reloads its files (SIGHUP).
 */
describe('provisioning a device into the Mosquitto files', () => {
  let dir: string;
  let mosquitto: Proc & { port: number };
  const config = () => join(dir, 'farm.yaml');
  const mq = () => join(dir, 'mosquitto');

  const provision = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'app/provision.ts', '--config', config(), ...args], {
      encoding: 'utf8',
      env: { ...process.env, MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'farm-mq-provision-'));
    copyFileSync('config/demo-farm.yaml', config());
    copyFileSync('config/demo-animals.csv', join(dir, 'demo-animals.csv')); // the farm file's registerFile, next to it
    mosquitto = await startMosquitto(mq()); // generated from the demo farm by npm run mosquitto-config
  });
  afterAll(async () => {
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the new device is refused before, and let in with its printed secret after provisioning and a reload', async () => {
    expect((await tryConnect(mosquitto.port, 'shed-9-env', 'anything')).connected).toBe(false);
    const result = provision(['--site', 'huyang', '--zone', 'shed-9', '--kind', 'shed', '--id', 'shed-9-env', '--role', 'sensor', '--mosquitto-dir', mq()]);
    expect(result.status, result.stderr).toBe(0);
    const secret = result.stdout.trim().split('\n').pop()!.trim();
    expect(readFileSync(config(), 'utf8')).not.toContain(secret);
    expect(readFileSync(join(mq(), 'passwd'), 'utf8')).toMatch(/^shed-9-env:\$7\$/m);
    expect(readFileSync(join(mq(), 'acl'), 'utf8')).toContain('topic write farm/huyang/shed-9/shed-9-env/telemetry');

    mosquitto.child.kill('SIGHUP');
    const ok = await waitFor(
      async () => ((await tryConnect(mosquitto.port, 'shed-9-env', secret, 'shed-9-env')).connected ? true : undefined),
      'Mosquitto to accept the new device',
      10_000,
      200,
    );
    expect(ok).toBe(true);
    expect((await tryConnect(mosquitto.port, 'shed-9-env', 'wrong-secret')).connected).toBe(false);
    // Its ACL lets it publish on its own telemetry topic.
    const dev = await connectDevice(mosquitto.port, 'shed-9-env', secret);
    await dev.publishAsync('farm/huyang/shed-9/shed-9-env/telemetry', JSON.stringify({ metrics: { temperature: 20 } }), { qos: 1 });
    await endClient(dev);
  });

  it('refuses --mosquitto-dir without generated files, and writes nothing', () => {
    const before = readFileSync(config(), 'utf8');
    const result = provision(['--site', 'huyang', '--zone', 'shed-1', '--id', 'shed-1-extra', '--role', 'sensor', '--mosquitto-dir', join(dir, 'nowhere')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/npm run mosquitto-config -- --out/);
    expect(readFileSync(config(), 'utf8')).toBe(before);
  });
});
