import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type { FarmIndex } from '../core/farm-index.js';
import type { FarmMetrics } from '../core/observability.js';
import type { RejectReason } from '../core/events.js';
import { mayPublish, maySubscribe, type ServiceCredentials } from './policy.js';
import { createRateLimiter } from './rate-limit.js';
import { createConnectionLimits, DEFAULT_CONNECTION_LIMITS, type ConnectionLimitOptions } from './connection-limits.js';

export { connectionLimitsFromEnv } from './connection-limits.js';
import { addressOf, createAuthenticateHook, IDENTITY, SETTLE_PENDING, type FarmClient } from './connect.js';

/**
 * The embedded MQTT broker (aedes). Every client authenticates; devices are confined to their own topics.
 * Device messages are handed to `onDeviceMessage` before the broker acknowledges them, so a QoS 1 PUBACK
 * means the reading is durable.
 */
export interface BrokerDeps {
  farm: () => FarmIndex;
  logger: Logger;
  metrics: FarmMetrics;
  service: ServiceCredentials;
  onDeviceMessage?: (deviceId: string, topic: string, payload: Buffer) => Promise<void>;
  onReject?: (reason: RejectReason, detail: string, topic: string, device?: string, payload?: Buffer) => void;
  onDeviceDisconnect?: (deviceId: string) => void;
}

export interface BrokerOptions {
  port: number;
  host: string;
  topicRoot: string;
  tls?: { port: number; certFile: string; keyFile: string };
  /** Sustained messages per second one client may publish; beyond it its messages are slowed, not dropped. */
  maxMessagesPerSecond: number;
  burst: number;
  /** Connection limits per address and per device (connection-limits.ts); defaults for what is not given. */
  connectionLimits?: Partial<ConnectionLimitOptions>;
}

export interface Broker {
  aedes: Aedes;
  start(): Promise<{ port: number; tlsPort?: number }>;
  stop(): Promise<void>;
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  connectedClients(): number;
}

/** A client so far over its rate that its messages would wait longer than this is disconnected instead. */
const MAX_HOLD_MS = 5_000;
/** Same as aedes' connectTimeout: a TLS socket that has not finished its handshake by then is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

function refusedCounter(metrics: FarmMetrics): Counter<'reason'> {
  const name = 'farm_mqtt_connections_refused_total';
  const existing = metrics.registry.getSingleMetric(name) as Counter<'reason'> | undefined;
  return existing ?? new Counter({ name, help: 'Connections refused or closed by the connection limits', labelNames: ['reason'], registers: [metrics.registry] });
}

export async function createBroker(deps: BrokerDeps, options: BrokerOptions): Promise<Broker> {
  const { logger, metrics } = deps;
  const given = Object.entries(options.connectionLimits ?? {}).filter(([, v]) => v !== undefined);
  const limitOptions: ConnectionLimitOptions = { ...DEFAULT_CONNECTION_LIMITS, ...Object.fromEntries(given) };
  const limits = createConnectionLimits(limitOptions);
  const refused = refusedCounter(metrics);
  const limiter = createRateLimiter({ ratePerSec: options.maxMessagesPerSecond, burst: options.burst });
  const aedes = await Aedes.createBroker({ maxClientsIdLength: 128, connectTimeout: 10_000, drainTimeout: 10_000, heartbeatInterval: 60_000 });
  /** Live connections of each device, oldest first (a device may hold up to maxConnectionsPerDevice). */
  const live = new Map<string, Client[]>();
  const sockets = new Set<Socket>();
  const warned = new Map<string, number>();
  const warnOnce = (key: string, obj: object, msg: string) => {
    const at = warned.get(key);
    if (at !== undefined && Date.now() - at < 60_000) return;
    warned.set(key, Date.now());
    logger.warn(obj, msg);
  };
  const sweeper = setInterval(() => {
    limits.sweep();
    for (const [key, at] of warned) if (Date.now() - at >= 60_000) warned.delete(key);
  }, 30_000);
  sweeper.unref();

  aedes.authenticate = createAuthenticateHook({ farm: deps.farm, service: deps.service, limits, logger, metrics, refused });

  aedes.authorizePublish = (client, packet, done) => {
    const identity = client && (client as FarmClient)[IDENTITY];
    if (!client || !identity) return done(new Error('not authenticated'));
    if (!mayPublish(identity, options.topicRoot, packet.topic)) {
      const who = identity.kind === 'device' ? identity.device.device : identity.username;
      deps.onReject?.('unauthorised_topic', `${who} may not publish on this topic; the connection was closed`, packet.topic, who, packet.payload as Buffer);
      return done(new Error(`${who} may not publish on ${packet.topic}`));
    }
    if (identity.kind === 'service' || !deps.onDeviceMessage) return done(null);
    const deviceId = identity.device.device;
    const deliver = () =>
      deps.onDeviceMessage!(deviceId, packet.topic, packet.payload as Buffer).then(
        () => done(null),
        (err) => done(err instanceof Error ? err : new Error(String(err))),
      );
    const waitMs = limiter.take(deviceId);
    if (waitMs > MAX_HOLD_MS) {
      metrics.rateLimited.inc();
      warnOnce(`rate|${deviceId}`, { device: deviceId }, 'device exceeds its message rate; connection closed');
      return done(new Error(`${deviceId} exceeds its message rate`));
    }
    if (waitMs > 0) setTimeout(deliver, waitMs);
    else void deliver();
  };

  aedes.authorizeSubscribe = (client, sub, done) => {
    const identity = (client as FarmClient)[IDENTITY];
    if (identity && maySubscribe(identity, options.topicRoot, sub.topic)) return done(null, sub);
    metrics.refusedSubscriptions.inc();
    logger.warn({ clientId: client.id, topic: sub.topic }, 'subscription refused');
    done(null, null); // SUBACK 0x80: refused, connection stays
  };

  aedes.on('client', (client) => {
    metrics.mqttClients.inc({ kind: kindOf(client) });
    const identity = (client as FarmClient)[IDENTITY];
    if (identity?.kind !== 'device') return;
    const device = identity.device.device;
    const list = live.get(device) ?? [];
    list.push(client);
    live.set(device, list);
    // The newest connection wins, as for a reused client id: the older one is most likely half-open.
    while (list.length > limitOptions.maxConnectionsPerDevice) {
      const oldest = list.shift()!;
      refused.inc({ reason: 'device_limit' });
      warnOnce(`takeover|${device}`, { device, limit: limitOptions.maxConnectionsPerDevice, address: addressOf(client) }, 'device opened more connections than allowed: closing its oldest');
      oldest.close();
    }
  });
  aedes.on('clientDisconnect', (client) => {
    metrics.mqttClients.dec({ kind: kindOf(client) });
    const identity = (client as FarmClient)[IDENTITY];
    if (identity?.kind !== 'device') return;
    const device = identity.device.device;
    const rest = (live.get(device) ?? []).filter((c) => c !== client);
    if (rest.length > 0) return void live.set(device, rest);
    live.delete(device);
    limiter.forget(device);
    deps.onDeviceDisconnect?.(device);
  });
  aedes.on('clientError', (client, err) => {
    // aedes refuses wildcard and empty topics in PUBLISH before asking authorizePublish: count them too.
    if (/(is not allowed in PUBLISH|empty topic)/.test(err.message)) {
      const identity = client && (client as FarmClient)[IDENTITY];
      const who = identity?.kind === 'device' ? identity.device.device : identity?.username;
      deps.onReject?.('unauthorised_topic', `${err.message}; the connection was closed`, '', who);
    }
    logger.debug({ clientId: client?.id, err: err.message }, 'MQTT client error');
  });
  aedes.on('connectionError', (client, err) => logger.debug({ clientId: client?.id, err: err.message }, 'MQTT connection error'));

  /** Every socket passes here first: the per-address cap on unauthenticated sockets is applied before MQTT parsing. */
  function admit(socket: Socket) {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const address = socket.remoteAddress ?? 'unknown';
    if (!limits.admitSocket(address)) {
      refused.inc({ reason: 'pending_limit' });
      warnOnce(`pending|${address}`, { address, limit: limitOptions.maxPendingPerAddress }, 'too many unauthenticated MQTT connections from one address: closing new ones');
      socket.destroy();
      return;
    }
    let pending = true;
    const settle = () => {
      if (!pending) return;
      pending = false;
      limits.socketSettled(address);
    };
    socket.once('close', settle);
    (socket as Socket & { [SETTLE_PENDING]?: () => void })[SETTLE_PENDING] = settle;
    aedes.handle(socket);
  }

  const servers: Server[] = [];
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host, () => resolve((server.address() as AddressInfo).port));
    });

  return {
    aedes,
    async start() {
      const plain = createServer(admit);
      servers.push(plain);
      const port = await listen(plain, options.port);
      let tlsPort: number | undefined;
      if (options.tls) {
        const secure = createTlsServer(
          { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile), handshakeTimeout: HANDSHAKE_TIMEOUT_MS },
          admit,
        );
        // Tracked from the TCP connection on, so a handshake in progress does not hold up stop().
        secure.on('connection', (raw: Socket) => {
          sockets.add(raw);
          raw.once('close', () => sockets.delete(raw));
        });
        servers.push(secure);
        tlsPort = await listen(secure, options.tls.port);
      }
      logger.info({ port, tlsPort }, 'MQTT broker listening');
      return { port, tlsPort };
    },
    async stop() {
      clearInterval(sweeper);
      // Stop accepting first; a server's close callback only fires once its connections are gone, so do not wait yet.
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      // Closes every connected client (their Last Will goes out, as for any lost connection).
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      // Sockets that never completed CONNECT are not aedes clients: drop them too.
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    },
    publish(topic, payload, opts) {
      return new Promise((resolve, reject) =>
        aedes.publish(
          { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: opts.qos, retain: opts.retain ?? false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    },
    connectedClients: () => aedes.connectedClients,
  };
}

function kindOf(client: Client): string {
  return (client as FarmClient)[IDENTITY]?.kind ?? 'unknown';
}
