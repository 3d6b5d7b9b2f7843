import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * The image's HEALTHCHECK: asks this container's own /health on HTTP_PORT and exits 0 when it answers 200 (ok, or
 * degraded while InfluxDB is away and the outbox holds the readings), 1 otherwise. HTTPS when TLS_CERT and TLS_KEY
 * are set (the dashboard serves HTTPS then; a part without a dashboard answers plain HTTP, tried next). Plain node,
 * no dependency, so it costs little every 30 s.
 */
const port = Number(process.env.HTTP_PORT ?? 3000);
const host = !process.env.HTTP_HOST || process.env.HTTP_HOST === '0.0.0.0' || process.env.HTTP_HOST === '::' ? '127.0.0.1' : process.env.HTTP_HOST;
const tls = Boolean(process.env.TLS_CERT && process.env.TLS_KEY);

function ask(secure: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    // The certificate names the public host, not 127.0.0.1: this is the container asking itself.
    const req = (secure ? httpsRequest : httpRequest)({ host, port, path: '/health', timeout: 4000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 4 s')));
    req.on('error', reject);
    req.end();
  });
}

try {
  const status = await ask(tls).catch((err: unknown) => (tls ? ask(false) : Promise.reject(err instanceof Error ? err : new Error(String(err)))));
  process.stdout.write(`/health answered ${status}\n`);
  process.exit(status === 200 ? 0 : 1);
} catch (err) {
  process.stdout.write(`/health did not answer on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
