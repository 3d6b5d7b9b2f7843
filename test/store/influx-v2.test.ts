import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StoreChoice } from '../../core/config/env.js';
import { silentLogger } from '../../core/logger.js';
import { createInfluxStore } from '../../store/influx-store.js';
import { alert, BASE, reading } from './contract.js';

/**
 * InfluxDB 2.x: no 2.x server exists on this machine (Debian ships 1.6.7 only), so a small local HTTP
 * server stands in for it. It records each request and answers as InfluxDB 2.x documents; the tests check
 * what the store sends: paths, parameters, the Token header and the line protocol.
 */
interface Recorded {
  method: string;
  path: string;
  params: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
}

const TOKEN = 'tok-123==';
let server: Server;
let url: string;
let requests: Recorded[] = [];
/** What the stand-in answers next, by path; defaults mimic a healthy InfluxDB 2.x. */
let answers: Record<string, { status: number; body?: unknown }> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const u = new URL(req.url!, 'http://x');
      requests.push({ method: req.method!, path: u.pathname, params: Object.fromEntries(u.searchParams), headers: req.headers, body });
      const answer = answers[u.pathname] ?? { status: 404, body: { code: 'not found', message: 'path not found' } };
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests = [];
  answers = {
    '/ping': { status: 204 },
    '/api/v2/buckets': { status: 200, body: { buckets: [{ id: 'b1', name: 'farm' }] } },
    '/api/v2/write': { status: 204 },
  };
});

function store() {
  const choice: StoreChoice = { kind: 'influx-v2', url, token: TOKEN, org: 'lake farm', bucket: 'farm', database: 'farm', timeoutMs: 5000 };
  return createInfluxStore(choice, { logger: silentLogger() });
}

describe('InfluxDB 2.x store (against a stand-in HTTP server)', () => {
  it('checks at start-up that the bucket exists in the organisation, with the token', async () => {
    await store().init();
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /ping', 'GET /api/v2/buckets']);
    expect(requests[1].params).toEqual({ name: 'farm', org: 'lake farm' });
    expect(requests[1].headers.authorization).toBe(`Token ${TOKEN}`);
  });

  it('says to create the bucket when it is missing, and to check the token when it is refused', async () => {
    answers['/api/v2/buckets'] = { status: 200, body: { buckets: [] } };
    await expect(store().init()).rejects.toMatchObject({
      code: 'STORE_NO_DATABASE',
      message: expect.stringContaining('influx bucket create -n farm -o lake farm'),
    });
    answers['/api/v2/buckets'] = { status: 401, body: { code: 'unauthorized', message: 'unauthorized access' } };
    await expect(store().init()).rejects.toMatchObject({ code: 'STORE_AUTH', message: expect.stringContaining('check INFLUX_TOKEN') });
    answers['/api/v2/buckets'] = { status: 404, body: { code: 'not found', message: 'organization name "lake farm" not found' } };
    await expect(store().init()).rejects.toMatchObject({ code: 'STORE_NO_DATABASE', message: expect.stringContaining('check INFLUX_ORG') });
  });

  it('writes readings as ms line protocol to /api/v2/write with org, bucket and the token', async () => {
    await store().writeReadings([reading('shed-1-env', BASE, { temperature: 21, humidity: 63.2 }), reading('drain-a-1', BASE + 1, { water_level: 1.25 })]);
    expect(requests).toHaveLength(1);
    const [w] = requests;
    expect(`${w.method} ${w.path}`).toBe('POST /api/v2/write');
    expect(w.params).toEqual({ org: 'lake farm', bucket: 'farm', precision: 'ms' });
    expect(w.headers.authorization).toBe(`Token ${TOKEN}`);
    expect(w.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(w.body).toBe(
      `telemetry,device=shed-1-env,kind=shed,site=huyang,zone=shed-1 humidity=63.2,temperature=21 ${BASE}\n` +
        `telemetry,device=drain-a-1,kind=drain,site=city,zone=drain-a water_level=1.25 ${BASE + 1}`,
    );
  });

  it('writes alerts with rule/severity/state tags and the event as JSON, in ns so none overwrite each other', async () => {
    const event = alert({ id: 'a1', ts: BASE, message: 'Ammonia 23.5 ppm in shed-1' });
    await store().writeAlerts([event, { ...event, id: 'a2' }]);
    const [w] = requests;
    expect(w.params.precision).toBe('ns');
    const lines = w.body.split('\n');
    expect(lines[0]).toMatch(
      /^alert,rule=shed-ammonia,severity=warning,site=huyang,state=raised,zone=shed-1 device="shed-1-env",id="a1",json="\{.*\}",message="Ammonia 23.5 ppm in shed-1",value=23.5 \d+$/,
    );
    const times = lines.map((l) => l.split(' ').pop()!);
    expect(times[0].slice(0, -6)).toBe(String(BASE));
    expect(times[1]).not.toBe(times[0]);
  });

  it("classifies write failures: 5xx retryable, 4xx bad data not, with InfluxDB's message", async () => {
    answers['/api/v2/write'] = { status: 503, body: { code: 'unavailable', message: 'service unavailable' } };
    await expect(store().writeReadings([reading('shed-1-env', BASE, { temperature: 1 })])).rejects.toMatchObject({ code: 'STORE_WRITE', retryable: true });
    answers['/api/v2/write'] = { status: 400, body: { code: 'invalid', message: 'failure writing points: field type conflict' } };
    await expect(store().writeReadings([reading('shed-1-env', BASE, { temperature: 1 })])).rejects.toMatchObject({
      code: 'STORE_WRITE',
      retryable: false,
      message: expect.stringContaining('field type conflict'),
    });
    // A revoked token is fixed by an operator, not by discarding readings: retry.
    answers['/api/v2/write'] = { status: 401, body: { code: 'unauthorized', message: 'unauthorized access' } };
    await expect(store().writeReadings([reading('shed-1-env', BASE, { temperature: 1 })])).rejects.toMatchObject({
      retryable: true,
      message: expect.stringContaining('check INFLUX_TOKEN'),
    });
  });

  it('queries history with InfluxQL on /query?db=<bucket> with the token, and drops empty buckets', async () => {
    answers['/query'] = {
      status: 200,
      body: {
        results: [
          {
            statement_id: 0,
            series: [
              {
                name: 'telemetry',
                tags: { device: 'shed-1-env' },
                columns: ['time', 'count', 'sum', 'min', 'max'],
                values: [
                  [BASE, 2, 42, 20, 22],
                  [BASE + 600_000, 0, null, null, null],
                ],
              },
            ],
          },
        ],
      },
    };
    const series = await store().history({ site: "huy'ang", metric: 'temperature', from: BASE, to: BASE + 3_600_000, everyMs: 600_000 });
    expect(series).toEqual([{ device: 'shed-1-env', buckets: [{ ts: BASE, mean: 21, min: 20, max: 22, count: 2 }] }]);
    const [q] = requests;
    expect(`${q.method} ${q.path}`).toBe('POST /query');
    expect(q.params).toEqual({ db: 'farm', epoch: 'ms' });
    expect(q.headers.authorization).toBe(`Token ${TOKEN}`);
    expect(new URLSearchParams(q.body).get('q')).toBe(
      'SELECT count("temperature") AS "count", sum("temperature") AS "sum", min("temperature") AS "min", max("temperature") AS "max" ' +
        `FROM "telemetry" WHERE time >= ${BASE}ms AND time < ${BASE + 3_600_000}ms AND "site" = 'huy\\'ang' GROUP BY time(600000ms), "device" fill(none)`,
    );
  });

  it('sends INFLUX_TOKEN alone (no org/bucket) as a Token header to the v1-compatible /write', async () => {
    answers['/write'] = { status: 204 };
    const choice: StoreChoice = { kind: 'influx-v1', url, database: 'farm', password: TOKEN, timeoutMs: 5000 };
    await createInfluxStore(choice, { logger: silentLogger() }).writeReadings([reading('shed-1-env', BASE, { temperature: 21 })]);
    const [w] = requests;
    expect(`${w.method} ${w.path}`).toBe('POST /write');
    expect(w.params).toEqual({ db: 'farm', precision: 'ms' });
    expect(w.headers.authorization).toBe(`Token ${TOKEN}`);
  });
});
