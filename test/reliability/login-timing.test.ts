import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import { hashSecret } from '../../core/secrets.js';
import { tryConnect } from '../helpers/mqtt.js';
import { DEMO_CONFIG, startTestService } from '../helpers/service.js';
import { report } from './report.js';

/**
 * How long a refused login takes must not tell whether the name exists, over the real HTTP API and real MQTT:
 * an unknown name, a name with a plain (development) password and one with a scrypt hash, each with a wrong
 * password. Before, a refusal took 1 ms for some and 25 ms (one scrypt) for others. Every refusal now does the
 * same work (core/secrets.ts checkSecret, unit-tested by structure in test/core/secrets.test.ts); here the samples
 * of the three kinds are taken interleaved, so a busy machine slows them alike, and their medians compared with a
 * margin far outside what load does to equal work (the difference was 25-fold).
 */
const ROUNDS = 12;
/** The slowest kind's median may be at most this many times the quickest's. */
const MAX_MEDIAN_RATIO = 3;

let svc: Awaited<ReturnType<typeof startTestService>>;
beforeAll(async () => {
  const config = structuredClone(loadFarmConfig(DEMO_CONFIG));
  config.users.push({ name: 'hashed-user', role: 'viewer', passwordHash: await hashSecret('the-right-password') });
  const hashedDevice = config.sites[0].zones[0].devices.find((d) => d.role === 'sensor')!;
  delete hashedDevice.secret;
  hashedDevice.secretHash = await hashSecret('the-right-secret');
  hashedDeviceId = hashedDevice.id;
  svc = await startTestService({ config, env: { MQTT_MAX_AUTH_FAILURES_PER_MINUTE: '100000' } });
});
afterAll(() => svc?.cleanup());
let hashedDeviceId: string;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One refused login over HTTP from `from` (a loopback address: the login limiter counts failures per address). */
function timedLogin(from: string, username: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ username, password });
    const started = performance.now();
    const req = request(
      {
        host: '127.0.0.1',
        port: svc.httpPort,
        localAddress: from,
        path: '/api/login',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 401 ? resolve(performance.now() - started) : reject(new Error(`expected 401, got ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function compare(kinds: Record<string, () => Promise<number>>, name: string) {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  const order = Object.keys(kinds);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate which kind goes first, so none is always measured right after another's work.
    for (let i = 0; i < order.length; i++) {
      const kind = order[(i + round) % order.length];
      samples[kind].push(await kinds[kind]());
    }
  }
  const medians = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, Math.round(median(xs) * 10) / 10]));
  report(name, { rounds: ROUNDS, medianMs: medians });
  const values = Object.values(medians);
  expect(Math.max(...values) / Math.max(Math.min(...values), 0.1), JSON.stringify(medians)).toBeLessThan(MAX_MEDIAN_RATIO);
}

describe('refused logins take as long whether the name exists or not', () => {
  it('dashboard: unknown user, plain-password user, hashed user', async () => {
    // Each address tries each kind once per round: three failures, within the limiter's five a minute.
    let round = 0;
    const from = () => `127.0.0.${20 + Math.floor(round++ / 3)}`;
    await compare(
      {
        unknown: () => timedLogin(from(), 'nobody-by-this-name', 'wrong-password'),
        plain: () => timedLogin(from(), 'ops', 'wrong-password'),
        hashed: () => timedLogin(from(), 'hashed-user', 'wrong-password'),
      },
      'login-timing-dashboard',
    );
  }, 120_000);

  it('MQTT: unknown device, plain-secret device, hashed-secret device', async () => {
    const timed = async (username: string) => {
      const started = performance.now();
      const result = await tryConnect(svc.mqttPort, username, 'wrong-secret', username);
      expect(result).toMatchObject({ connected: false, code: 4 });
      return performance.now() - started;
    };
    await compare({ unknown: () => timed('nobody-by-this-name'), plain: () => timed('shed-2-env'), hashed: () => timed(hashedDeviceId) }, 'login-timing-mqtt');
  }, 120_000);
});
