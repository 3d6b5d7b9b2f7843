import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Health } from '../health.js';

/**
 * /metrics (Prometheus text) and /health of a process that has no dashboard (broker, ingest, rules in split
 * mode), on HTTP_PORT. Read-only and without secrets, like the dashboard's public /metrics.
 */
export interface OpsServer {
  port: number;
  stop(): Promise<void>;
}

export async function startOpsServer(o: { port: number; host: string; metricsText: () => Promise<string>; health: () => Promise<Health> }): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => res.writeHead(status, { 'content-type': type }).end(body);
    if (req.method !== 'GET') return reply(405, 'text/plain', 'only GET\n');
    if (path === '/metrics')
      return void o.metricsText().then(
        (text) => reply(200, 'text/plain; version=0.0.4; charset=utf-8', text),
        (err: Error) => reply(500, 'text/plain', `metrics failed: ${err.message}\n`),
      );
    if (path === '/health')
      return void o.health().then(
        (h) => reply(h.status === 'down' ? 503 : 200, 'application/json', JSON.stringify(h)),
        (err: Error) => reply(503, 'application/json', JSON.stringify({ status: 'down', checks: { health: err.message } })),
      );
    reply(404, 'text/plain', 'this process serves /metrics and /health only; the dashboard runs in the dashboard process\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
