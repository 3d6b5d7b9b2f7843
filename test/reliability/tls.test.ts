import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../helpers/ports.js';
import { SHED1_ENV, startTestService } from '../helpers/service.js';

/** MQTT over TLS and HTTPS from configured certificate paths, with a self-signed certificate made here. */
const dir = mkdtempSync(join(tmpdir(), 'farm-tls-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
let svc: Awaited<ReturnType<typeof startTestService>>;

beforeAll(async () => {
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`openssl is needed to make a test certificate: apt-get install -y openssl (${(err as Error).message})`);
  }
  svc = await startTestService({ env: { MQTT_TLS_PORT: String(await freePort()), TLS_CERT: cert, TLS_KEY: key } });
});
afterAll(async () => {
  await svc?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('accepts a device over MQTT/TLS that trusts the certificate and stores its reading', async () => {
    const client = mqtt.connect(`mqtts://127.0.0.1:${svc.mqttTlsPort}`, { ca: readFileSync(cert), username: SHED1_ENV.id, password: SHED1_ENV.secret, clientId: SHED1_ENV.id, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const ts = Date.now() - 1000;
    await client.publishAsync(SHED1_ENV.topic, JSON.stringify({ ts, metrics: { nh3: 4.5 } }), { qos: 1 });
    await client.endAsync();
    expect(await svc.store.raw({ device: SHED1_ENV.id, metric: 'nh3', from: ts, to: ts + 1 })).toMatchObject([{ value: 4.5 }]);
  });

  it('refuses a wrong secret over TLS as over plain TCP', async () => {
    const client = mqtt.connect(`mqtts://127.0.0.1:${svc.mqttTlsPort}`, { ca: readFileSync(cert), username: SHED1_ENV.id, password: 'not-the-secret', clientId: SHED1_ENV.id, reconnectPeriod: 0 });
    const err = await new Promise<Error & { code?: number }>((resolve) => client.once('error', resolve));
    client.end(true);
    expect(err.code).toBe(4);
  });

  it('refuses a client that does not trust the certificate (no plaintext fallback on the TLS port)', async () => {
    const client = mqtt.connect(`mqtts://127.0.0.1:${svc.mqttTlsPort}`, { username: SHED1_ENV.id, password: SHED1_ENV.secret, reconnectPeriod: 0 });
    const err = await new Promise<Error>((resolve) => client.once('error', resolve));
    client.end(true);
    expect(err.message).toMatch(/self.signed|certificate/i);
  });

  it('serves the API over HTTPS', async () => {
    const body = await waitFor(
      () =>
        new Promise<string>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: svc.httpPort, path: '/health', ca: readFileSync(cert), servername: 'localhost' }, (res) => {
            let data = '';
            res.on('data', (d) => (data += d));
            res.on('end', () => resolve(data));
          });
          req.on('error', reject);
          req.end();
        }),
      'HTTPS /health',
    );
    expect(JSON.parse(body).status).toBe('ok');
  });
});
