import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import mqtt from 'mqtt';
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Counter } from 'prom-client';
import { freePort, waitFor } from '../helpers/ports.js';
import { spawnService } from '../helpers/process.js';
import { socketClosed } from '../helpers/raw-mqtt.js';
import { SHED1_ENV, startTestService } from '../helpers/service.js';

/** MQTT over TLS and HTTPS from configured certificate paths, with a self-signed certificate made here. */
const dir = mkdtempSync(join(tmpdir(), 'farm-tls-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
let svc: Awaited<ReturnType<typeof startTestService>>;

beforeAll(async () => {
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
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
    const client = mqtt.connect(`mqtts://127.0.0.1:${svc.mqttTlsPort}`, {
      ca: readFileSync(cert),
      username: SHED1_ENV.id,
      password: SHED1_ENV.secret,
      clientId: SHED1_ENV.id,
      reconnectPeriod: 0,
    });
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
    const client = mqtt.connect(`mqtts://127.0.0.1:${svc.mqttTlsPort}`, {
      ca: readFileSync(cert),
      username: SHED1_ENV.id,
      password: 'not-the-secret',
      clientId: SHED1_ENV.id,
      reconnectPeriod: 0,
    });
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

/** A device over MQTT/TLS: connects, publishes one QoS 1 reading, disconnects; resolves once it is acknowledged. */
async function publishOverTls(port: number, ts: number): Promise<void> {
  const client = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
    ca: readFileSync(cert),
    username: SHED1_ENV.id,
    password: SHED1_ENV.secret,
    clientId: SHED1_ENV.id,
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.publishAsync(SHED1_ENV.topic, JSON.stringify({ ts, metrics: { nh3: 2.5 } }), { qos: 1 });
  await client.endAsync();
}

describe('TLS sockets counted from TCP accept', () => {
  const CAP = 10;
  let limited: Awaited<ReturnType<typeof startTestService>>;
  beforeAll(async () => {
    limited = await startTestService({
      env: { MQTT_TLS_PORT: String(await freePort()), TLS_CERT: cert, TLS_KEY: key, MQTT_MAX_PENDING_PER_ADDRESS: String(CAP), MQTT_CONNECT_TIMEOUT: '2s' },
    });
  });
  afterAll(() => limited?.cleanup());

  async function refused(reason: string): Promise<number> {
    const counter = limited.metrics.registry.getSingleMetric('farm_mqtt_connections_refused_total') as Counter<'reason'>;
    return (await counter.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  }

  it('holds at most the per-address cap of sockets that never finish a TLS handshake, drops them at the CONNECT deadline, and serves a device meanwhile', async () => {
    const port = limited.mqttTlsPort!;
    const opened: Socket[] = [];
    const trickles: NodeJS.Timeout[] = [];
    for (let i = 0; i < CAP * 3; i++) {
      // From 127.0.0.9: a separate source address on Linux loopback, so the device below (127.0.0.1) has its own cap.
      const socket = tcpConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.9' });
      socket.on('error', () => {});
      socket.resume();
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()).once('close', () => resolve()));
      // Half of them start a ClientHello record (announcing 512 bytes) and send one byte of it every 300 ms: an idle
      // timeout would never fire for those.
      if (i % 2 === 0 && !socket.destroyed) {
        socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
        trickles.push(setInterval(() => socket.destroyed || socket.write(Buffer.from([0])), 300));
      }
      opened.push(socket);
    }
    try {
      // Those beyond the cap are closed at once, before any handshake.
      await waitFor(async () => (await refused('pending_limit')) >= CAP * 2 || undefined, 'the sockets beyond the cap to be refused');
      const ts = Date.now() - 1000;
      await publishOverTls(port, ts);
      expect(await limited.store.raw({ device: SHED1_ENV.id, metric: 'nh3', from: ts, to: ts + 1 })).toMatchObject([{ value: 2.5 }]);
      // The ones within the cap are dropped at the deadline, trickling or not.
      const allClosed = await Promise.all(opened.map((s) => socketClosed(s, 20_000)));
      expect(allClosed.every(Boolean)).toBe(true);
      expect(await refused('pending_limit')).toBe(CAP * 2);
      expect(await refused('connect_timeout')).toBe(CAP);
    } finally {
      trickles.forEach(clearInterval);
      opened.forEach((s) => s.destroy());
    }
  }, 60_000);
});

describe('MQTT_PLAINTEXT=false', () => {
  it('leaves only MQTT over TLS open, and the ready line gives the https:// address', async () => {
    const [mqttPort, tlsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const dataDir = mkdtempSync(join(tmpdir(), 'farm-tls-only-'));
    const proc = spawnService({
      MQTT_PORT: String(mqttPort),
      MQTT_TLS_PORT: String(tlsPort),
      HTTP_PORT: String(httpPort),
      TLS_CERT: cert,
      TLS_KEY: key,
      MQTT_PLAINTEXT: 'false',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    });
    try {
      const ready = await waitFor(
        () =>
          proc
            .output()
            .split('\n')
            .find((l) => l.includes('ready:')),
        `the ready line (output: ${proc.output().slice(-500)})`,
        60_000,
      );
      expect(ready).toContain(`dashboard on https://localhost:${httpPort}`);
      expect(ready).toContain(`MQTT over TLS on port ${tlsPort}`);
      expect(ready).not.toContain(`MQTT on port`);
      const plain = tcpConnect({ host: '127.0.0.1', port: mqttPort });
      const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => plain.once('error', resolve).once('connect', () => resolve(undefined)));
      plain.destroy();
      expect(error?.code).toBe('ECONNREFUSED');
      const ts = Date.now() - 1000;
      await publishOverTls(tlsPort, ts);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  it('refuses to start with MQTT_PLAINTEXT=false and no TLS, saying what to set', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'farm-no-port-'));
    const proc = spawnService({ MQTT_PORT: String(await freePort()), HTTP_PORT: String(await freePort()), MQTT_PLAINTEXT: 'false', DATA_DIR: dataDir });
    const { code } = await proc.exited;
    rmSync(dataDir, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(proc.output()).toMatch(/MQTT_PLAINTEXT: false closes the plain MQTT port.*set MQTT_TLS_PORT, TLS_CERT and TLS_KEY/);
    expect(proc.output()).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);
});
