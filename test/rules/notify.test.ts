import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../core/domain.js';
import { silentLogger } from '../../core/logger.js';
import { systemClock } from '../../rules/clock.js';
import { createNotifier } from '../../rules/notify.js';
import { harness, T0 } from './helpers.js';

/** A real webhook receiver: answers with the queued statuses (then 200), or never for /hang. */
let server: Server;
let base: string;
let received: { path: string; body: any; headers: IncomingMessage['headers'] }[];
let statuses: number[];
let hanging: import('node:http').ServerResponse[];

beforeEach(async () => {
  received = [];
  statuses = [];
  hanging = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url!, body: JSON.parse(body), headers: req.headers });
      if (req.url === '/hang') return void hanging.push(res);
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const event: AlertEvent = {
  id: 'a1',
  rule: 'r',
  site: 's',
  zone: 'z',
  severity: 'warning',
  state: 'raised',
  level: null,
  value: null,
  metric: null,
  message: 'm',
  ts: T0,
};

describe('notify webhook', () => {
  it('POSTs the alert event as JSON and retries with backoff until the endpoint accepts it', async () => {
    statuses.push(500, 503);
    const n = createNotifier({ fetch, clock: systemClock, logger: silentLogger(), maxAttempts: 5, baseDelayMs: 20 });
    const started = Date.now();
    n.send({ url: `${base}/hook`, headers: { 'x-token': 'abc' } }, event);
    await n.idle();
    expect(received.map((r) => r.body)).toEqual([event, event, event]);
    expect(received[0].headers['content-type']).toBe('application/json');
    expect(received[0].headers['x-token']).toBe('abc');
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 + 40); // 20 ms, then 40 ms
  });

  it('gives up after notifyMaxAttempts, and does not retry a request the endpoint rejects as bad', async () => {
    statuses.push(503, 503, 503, 503, 503);
    const n = createNotifier({ fetch, clock: systemClock, logger: silentLogger(), maxAttempts: 3, baseDelayMs: 5 });
    n.send({ url: `${base}/down` }, event);
    await n.idle();
    expect(received).toHaveLength(3);
    statuses.length = 0;
    statuses.push(400);
    n.send({ url: `${base}/bad` }, event);
    await n.idle();
    expect(received.filter((r) => r.path === '/bad')).toHaveLength(1);
  });

  it('the engine posts each alert event of a rule with notify, and a hanging webhook never blocks evaluation', async () => {
    const h = harness([
      {
        id: 'heat',
        scope: { zone: 'shed-2' },
        when: { metric: 'temperature', above: 30 },
        actions: [{ actuate: { type: 'fan', action: 'on' } }, { alert: { severity: 'warning' } }, { notify: { url: `${base}/hook` } }],
      },
      {
        id: 'nh3',
        scope: { zone: 'shed-2' },
        when: { metric: 'nh3', above: 20 },
        actions: [{ alert: { severity: 'warning' } }, { notify: { url: `${base}/hang` } }],
      },
    ]);
    await h.engine.start();
    h.send('shed-2-env', { nh3: 30 }); // its webhook will never answer
    h.send('shed-2-env', { temperature: 35 });
    expect(h.commands('shed-2-fan')).toHaveLength(1); // commanded synchronously, webhooks or not
    h.send('shed-2-env', { temperature: 20 });
    await expect.poll(() => received.filter((r) => r.path === '/hook').map((r) => r.body.state)).toEqual(['raised', 'cleared']);
    expect(received.find((r) => r.path === '/hook')!.body).toMatchObject({
      rule: 'heat',
      site: 'huyang',
      zone: 'shed-2',
      device: 'shed-2-env',
      severity: 'warning',
    });
    expect(received.filter((r) => r.path === '/hang')).toHaveLength(1);
    await h.engine.stop();
  });
});
