import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { ConnectionLimits } from './connection-limits.js';
import { onLogin } from './connect.js';

/**
 * The broker's listening sockets. A connection is counted from TCP accept: the cap on sockets of one address that
 * have not logged in and the deadline for logging in both start there, for MQTT over TLS too, before the handshake.
 * (Counted from the end of the handshake, 5,000 sockets that never finished one were all held, 3,000 of them still
 * after 55 s.) A socket that has logged in (the CONNECT step calls its onLogin hook) is no longer pending.
 */
export type ListenerRefusal = 'pending_limit' | 'connect_timeout';

export interface ListenerDeps {
  limits: Pick<ConnectionLimits, 'admitSocket' | 'socketSettled'>;
  /** The socket (plain, or TLS once its handshake is done) for aedes. */
  handle(socket: Socket): void;
  onRefused(reason: ListenerRefusal, address: string): void;
}

export interface ListenerOptions {
  host: string;
  /** Plain MQTT; omitted when MQTT_PLAINTEXT=false closes it. */
  port?: number;
  tls?: { port: number; certFile: string; keyFile: string };
  connectTimeoutMs: number;
}

export interface Listeners {
  start(): Promise<{ port?: number; tlsPort?: number }>;
  /**
   * Stops accepting, lets `closeClients` close the logged-in connections (their Last Will goes out as for any lost
   * connection), then drops every socket left: those that never logged in and handshakes in progress.
   */
  stop(closeClients: () => Promise<void>): Promise<void>;
}

/**
 * A socket not yet logged in: its cap slot and its deadline. A class (one per connection for its whole life):
 * its method is shared, where a closure per socket would also get a name property from tsx.
 */
class Pending {
  constructor(
    private readonly address: string,
    private timer: NodeJS.Timeout | undefined,
    private readonly limits: Pick<ConnectionLimits, 'socketSettled'>,
  ) {}

  /** Logged in or closed: the slot is free and the deadline off (the timer is dropped, not kept). */
  settle(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.limits.socketSettled(this.address);
  }
}
const peerKey = (s: Pick<Socket, 'remoteAddress' | 'remotePort'>) => `${s.remoteAddress}|${s.remotePort}`;

export function createListeners(deps: ListenerDeps, options: ListenerOptions): Listeners {
  const sockets = new Set<Socket>();
  /** TCP connections of the TLS port by peer, so the socket aedes gets after the handshake finds its pending entry. */
  const tlsPending = new Map<string, Pending>();
  const servers: Server[] = [];

  /** Every TCP connection passes here first, before any TLS or MQTT byte is read. */
  function accept(raw: Socket): Pending | undefined {
    sockets.add(raw);
    const address = raw.remoteAddress ?? 'unknown';
    if (!deps.limits.admitSocket(address)) {
      raw.once('close', () => sockets.delete(raw));
      deps.onRefused('pending_limit', address);
      raw.destroy();
      return undefined;
    }
    const timer = setTimeout(() => {
      deps.onRefused('connect_timeout', address);
      raw.destroy();
    }, options.connectTimeoutMs);
    const pending = new Pending(address, timer, deps.limits);
    raw.on('close', () => {
      sockets.delete(raw);
      pending.settle();
    });
    return pending;
  }

  function mark(socket: Socket, pending: Pending) {
    onLogin(socket, pending);
  }

  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host, () => resolve((server.address() as AddressInfo).port));
    });

  return {
    async start() {
      let port: number | undefined;
      let tlsPort: number | undefined;
      if (options.port !== undefined) {
        const plain = createServer((socket) => {
          const pending = accept(socket);
          if (!pending) return;
          mark(socket, pending);
          deps.handle(socket);
        });
        servers.push(plain);
        port = await listen(plain, options.port);
      }
      if (options.tls) {
        // handshakeTimeout alone is not enough: it is an idle timeout that a client sending a byte now and then
        // resets. The deadline from accept above is not.
        const tlsOptions = { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile), handshakeTimeout: options.connectTimeoutMs };
        const secure = createTlsServer(tlsOptions, (socket: TLSSocket) => {
          const key = peerKey(socket);
          const pending = tlsPending.get(key);
          tlsPending.delete(key);
          if (!pending) return void socket.destroy(); // its TCP connection was refused or timed out meanwhile
          mark(socket, pending);
          deps.handle(socket);
        });
        // Runs after tls.Server's own listener has wrapped the socket, before the handshake has read a byte.
        secure.on('connection', (raw: Socket) => {
          const pending = accept(raw);
          if (!pending) return;
          const key = peerKey(raw);
          tlsPending.set(key, pending);
          raw.once('close', () => tlsPending.delete(key));
        });
        secure.on('tlsClientError', () => {}); // a failed handshake: the socket is already destroyed
        servers.push(secure);
        tlsPort = await listen(secure, options.tls.port);
      }
      return { port, tlsPort };
    },
    async stop(closeClients) {
      // A server's close callback fires only once its connections are gone: stop accepting now, wait at the end.
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      await closeClients();
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    },
  };
}
