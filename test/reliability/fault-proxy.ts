import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A small HTTP proxy in front of the real influxd that injects the faults a real InfluxDB shows: answering
 * 5xx, answering slowly (past the service's INFLUX_TIMEOUT), or being gone (when the test stops influxd,
 * the proxy drops the connection, as a dead upstream does). Everything else is passed through unchanged.
 * It records every /write that InfluxDB accepted, in the order InfluxDB received them, to check delivery order
 * and count re-sends.
 */
export type FaultMode = { kind: 'pass' } | { kind: 'error'; status: number } | { kind: 'slow'; delayMs: number };

export interface AcceptedWrite {
  lines: string[];
  /** false when the service had given up waiting (timeout) before the answer came: it will send these again. */
  answered: boolean;
}

export interface FaultProxy {
  readonly url: string;
  mode: FaultMode;
  readonly writes: AcceptedWrite[];
  /** Requests answered with an injected error, delayed, or dropped because influxd was unreachable. */
  readonly injected: { error: number; slow: number; dropped: number };
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const writes: AcceptedWrite[] = [];
  const injected = { error: 0, slow: 0, dropped: 0 };
  const sockets = new Set<Socket>();
  const state = { mode: { kind: 'pass' } as FaultMode };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const mode = state.mode;
    if (mode.kind === 'error') {
      injected.error++;
      res.writeHead(mode.status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: `injected ${mode.status} by the test's fault proxy` }));
      return;
    }
    const answer = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer } | undefined>((resolve) => {
      const out = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (d: Buffer) => parts.push(d));
          up.on('end', () => resolve({ status: up.statusCode ?? 502, headers: up.headers, body: Buffer.concat(parts) }));
          up.on('error', () => resolve(undefined));
        },
      );
      out.on('error', () => resolve(undefined));
      out.end(body);
    });
    if (!answer) {
      // influxd is stopped: the service sees its connection dropped, as with a dead server behind a load balancer.
      injected.dropped++;
      res.socket?.destroy();
      return;
    }
    if (mode.kind === 'slow') {
      injected.slow++;
      await new Promise((r) => setTimeout(r, mode.delayMs));
    }
    const answered = !res.destroyed && !res.socket?.destroyed;
    if (req.url?.startsWith('/write') && answer.status >= 200 && answer.status < 300)
      writes.push({ lines: body.toString('utf8').split('\n').filter(Boolean), answered });
    if (!answered) return;
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    delete headers['content-length'];
    res.writeHead(answer.status, headers).end(answer.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.socket?.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(m: FaultMode) {
      state.mode = m;
    },
    writes,
    injected,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
