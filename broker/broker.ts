import { Aedes, type Client } from 'aedes';
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type { FarmIndex } from '../core/farm-index.js';
import type { FarmMetrics } from '../core/observability.js';
import type { RejectReason } from '../core/events.js';
import { mayPublish, mayRetain, maySubscribe, type ServiceCredentials } from './policy.js';
import { createRateLimiter } from './rate-limit.js';
import { createConnectionLimits, DEFAULT_CONNECTION_LIMITS, type ConnectionLimitOptions } from './connection-limits.js';
import { createListeners } from './listeners.js';
import { guardPacketSizes, PacketGuardUnavailable, type PacketGuardHooks } from './packet-guard.js';
import { packetSizeLimits, PUBLISH, PUBLISH_OVERHEAD_BYTES } from './packet-size.js';
import { forgetConnectPacket, useLeanParserBuffer } from './lean-parser.js';

export { connectionLimitsFromEnv } from './connection-limits.js';
import { addressOf, createAuthenticateHook, identityOf, markBrokerAssignedId } from './connect.js';

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
  /**
   * Takes a device's message; what it returns is what the broker waits for before it acknowledges (QoS 1: once
   * durable) and reads the client's next packets; undefined: go on at once. `qos` says how the message came.
   */
  onDeviceMessage?: (deviceId: string, topic: string, payload: Buffer, qos: 0 | 1 | 2) => Promise<void> | undefined;
  onReject?: (reason: RejectReason, detail: string, topic: string, device?: string, payload?: Buffer) => void;
  onDeviceDisconnect?: (deviceId: string) => void;
}

export interface BrokerOptions {
  /** Plain MQTT; omitted when MQTT_PLAINTEXT=false leaves only MQTT over TLS. */
  port?: number;
  host: string;
  topicRoot: string;
  tls?: { port: number; certFile: string; keyFile: string };
  /** Sustained messages per second one client may publish; beyond it its messages are slowed, not dropped. */
  maxMessagesPerSecond: number;
  burst: number;
  /** Connection limits per address and per device (connection-limits.ts); defaults for what is not given. */
  connectionLimits?: Partial<ConnectionLimitOptions>;
  /** MAX_PAYLOAD_BYTES: a device's packets may announce this plus PUBLISH_OVERHEAD_BYTES (packet-size.ts). Default 64 KiB. */
  maxPayloadBytes?: number;
  /** MQTT_MAX_SERVICE_PACKET_BYTES: the largest packet a service component may send. Default 16 MiB. */
  maxServicePacketBytes?: number;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;
/** Rules requests and answers between split-mode processes (a dry run over history) are the largest service packets. */
export const DEFAULT_MAX_SERVICE_PACKET_BYTES = 16 * 1024 * 1024;

export interface Broker {
  aedes: Aedes;
  start(): Promise<{ port?: number; tlsPort?: number }>;
  stop(): Promise<void>;
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  connectedClients(): number;
  /** Closes the connections of these devices (removed from the farm file, or changed: they log in again). */
  disconnectDevices(ids: ReadonlySet<string>): number;
}

/** A client so far over its rate that its messages would wait longer than this is disconnected instead. */
const MAX_HOLD_MS = 5_000;

function refusedCounter(metrics: FarmMetrics): Counter<'reason'> {
  const name = 'farm_mqtt_connections_refused_total';
  const existing = metrics.registry.getSingleMetric(name) as Counter<'reason'> | undefined;
  return (
    existing ?? new Counter({ name, help: 'Connections refused or closed by the connection limits', labelNames: ['reason'], registers: [metrics.registry] })
  );
}

export async function createBroker(deps: BrokerDeps, options: BrokerOptions): Promise<Broker> {
  const { logger, metrics } = deps;
  const given = Object.entries(options.connectionLimits ?? {}).filter(([, v]) => v !== undefined);
  const limitOptions: ConnectionLimitOptions = { ...DEFAULT_CONNECTION_LIMITS, ...Object.fromEntries(given) };
  const limits = createConnectionLimits(limitOptions);
  const refused = refusedCounter(metrics);
  const limiter = createRateLimiter({ ratePerSec: options.maxMessagesPerSecond, burst: options.burst });
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const sizeLimits = packetSizeLimits(maxPayloadBytes, options.maxServicePacketBytes ?? DEFAULT_MAX_SERVICE_PACKET_BYTES);
  // aedes' own CONNECT timer starts only once a TLS handshake is done; listeners.ts counts from TCP accept.
  const aedes = await Aedes.createBroker({ connectTimeout: limitOptions.connectTimeoutMs, drainTimeout: 10_000, heartbeatInterval: 60_000 });
  /** Live connections of each device, oldest first (a device may hold up to maxConnectionsPerDevice). */
  const live = new Map<string, Client[]>();
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

  // An empty client id is the broker's to assign (MQTT 3.1.1 §3.1.3.1): aedes makes a random one, nobody else's.
  aedes.preConnect = (client, packet, done) => {
    markBrokerAssignedId(client, !packet.clientId);
    done(null, true);
  };
  aedes.authenticate = createAuthenticateHook({ farm: deps.farm, service: deps.service, limits, logger, metrics, refused });

  aedes.authorizePublish = (client, packet, done) => {
    const identity = identityOf(client);
    if (!client || !identity) return done(new Error('not authenticated'));
    if (!mayPublish(identity, options.topicRoot, packet.topic)) {
      const who = identity.kind === 'device' ? identity.device.device : identity.username;
      deps.onReject?.('unauthorised_topic', `${who} may not publish on this topic; the connection was closed`, packet.topic, who, packet.payload as Buffer);
      return done(new Error(`${who} may not publish on ${packet.topic}`));
    }
    if (packet.retain && !mayRetain(identity, options.topicRoot, packet.topic)) {
      // Only a device's status and an actuator's state are retained (SPEC "MQTT topics"): a retained reading would
      // be replayed to every new subscriber as if new. The reading itself is taken.
      packet.retain = false;
      metrics.retainCleared.inc();
    }
    if (identity.kind === 'service' || !deps.onDeviceMessage) return done(null);
    const deviceId = identity.device.device;
    const waitMs = limiter.take(deviceId);
    if (waitMs > MAX_HOLD_MS) {
      metrics.rateLimited.inc();
      warnOnce(`rate|${deviceId}`, { device: deviceId }, 'device exceeds its message rate; connection closed');
      return done(new Error(`${deviceId} exceeds its message rate`));
    }
    if (waitMs > 0) setTimeout(deliver, waitMs, deviceId, packet, done);
    else deliver(deviceId, packet, done);
  };

  /** Hands a device's message to ingest; aedes goes on (for QoS 1: sends the PUBACK) once ingest took it. One function for all messages (no closure made for each). */
  function deliver(deviceId: string, packet: { topic: string; payload: unknown; qos: 0 | 1 | 2 }, done: (err?: Error | null) => void): void {
    let taken: Promise<void> | undefined;
    try {
      taken = deps.onDeviceMessage!(deviceId, packet.topic, packet.payload as Buffer, packet.qos);
    } catch (err) {
      return done(err instanceof Error ? err : new Error(String(err)));
    }
    if (!taken) return done(null);
    taken.then(
      () => done(null),
      (err) => done(err instanceof Error ? err : new Error(String(err))),
    );
  }

  aedes.authorizeSubscribe = (client, sub, done) => {
    const identity = identityOf(client);
    if (identity && maySubscribe(identity, options.topicRoot, sub.topic)) return done(null, sub);
    metrics.refusedSubscriptions.inc();
    logger.warn({ clientId: client.id, topic: sub.topic }, 'subscription refused');
    done(null, null); // SUBACK 0x80: refused, connection stays
  };

  aedes.on('client', (client) => {
    forgetConnectPacket(client);
    metrics.mqttClients.inc({ kind: kindOf(client) });
    const identity = identityOf(client);
    if (identity?.kind !== 'device') return;
    const device = identity.device.device;
    const list = live.get(device) ?? [];
    list.push(client);
    live.set(device, list);
    // The newest connection wins, as for a reused client id: the older one is most likely half-open.
    while (list.length > limitOptions.maxConnectionsPerDevice) {
      const oldest = list.shift()!;
      refused.inc({ reason: 'device_limit' });
      warnOnce(
        `takeover|${device}`,
        { device, limit: limitOptions.maxConnectionsPerDevice, address: addressOf(client) },
        'device opened more connections than allowed: closing its oldest',
      );
      oldest.close();
    }
  });
  aedes.on('clientDisconnect', (client) => {
    metrics.mqttClients.dec({ kind: kindOf(client) });
    const identity = identityOf(client);
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
      const identity = identityOf(client);
      const who = identity?.kind === 'device' ? identity.device.device : identity?.username;
      deps.onReject?.('unauthorised_topic', `${err.message}; the connection was closed`, '', who);
    }
    logger.debug({ clientId: client?.id, err: err.message }, 'MQTT client error');
  });
  aedes.on('connectionError', (client, err) => logger.debug({ clientId: client?.id, err: err.message }, 'MQTT connection error'));

  const guardHooks: PacketGuardHooks = {
    limits: sizeLimits,
    stage: (client) => identityOf(client)?.kind,
    onRefused(client, r) {
      metrics.oversizePackets.inc({ stage: r.stage });
      const identity = identityOf(client);
      const address = addressOf(client);
      warnOnce(
        `oversize|${address}`,
        { address, clientId: client.id, stage: r.stage, announcedBytes: r.announcedBytes, limitBytes: r.limitBytes },
        'MQTT packet announced larger than allowed: connection closed before reading it',
      );
      if (identity?.kind === 'device' && r.packetType === PUBLISH)
        deps.onReject?.(
          'oversize',
          `a PUBLISH announced ${r.announcedBytes} bytes, more than ${r.limitBytes} (MAX_PAYLOAD_BYTES + ${PUBLISH_OVERHEAD_BYTES} for topic and header); it was not read and the connection was closed`,
          '',
          identity.device.device,
        );
    },
  };

  /** A socket that passed the listener's per-address cap: the packet-size guard goes in front of aedes' parser. */
  function handle(socket: Parameters<Aedes['handle']>[0]) {
    const client = aedes.handle(socket);
    useLeanParserBuffer(client);
    try {
      guardPacketSizes(client, guardHooks);
    } catch (err) {
      if (!(err instanceof PacketGuardUnavailable)) throw err;
      warnOnce('packet-guard', { err: err.message }, 'refusing MQTT connections: packet sizes cannot be checked');
    }
  }

  const listeners = createListeners(
    {
      limits,
      handle,
      onRefused(reason, address) {
        refused.inc({ reason });
        if (reason === 'pending_limit')
          warnOnce(
            `pending|${address}`,
            { address, limit: limitOptions.maxPendingPerAddress },
            'too many unauthenticated MQTT connections from one address: closing new ones',
          );
        else logger.debug({ address, timeoutMs: limitOptions.connectTimeoutMs }, 'MQTT socket did not log in in time (counted from TCP accept): closed');
      },
    },
    { host: options.host, port: options.port, tls: options.tls, connectTimeoutMs: limitOptions.connectTimeoutMs },
  );

  return {
    aedes,
    async start() {
      const ports = await listeners.start();
      logger.info({ port: ports.port, tlsPort: ports.tlsPort }, 'MQTT broker listening');
      return ports;
    },
    async stop() {
      clearInterval(sweeper);
      // Closes every connected client (their Last Will goes out, as for any lost connection), then sockets that
      // never logged in and TLS handshakes in progress. Never waits for clients to hang up (README "Shutdown").
      await listeners.stop(() => new Promise<void>((resolve) => aedes.close(() => resolve())));
    },
    publish(topic, payload, opts) {
      return new Promise((resolve, reject) =>
        aedes.publish(
          {
            cmd: 'publish',
            topic,
            payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
            qos: opts.qos,
            retain: opts.retain ?? false,
            dup: false,
          },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    },
    connectedClients: () => aedes.connectedClients,
    disconnectDevices(ids) {
      let closed = 0;
      // aedes keeps its connected clients by client id (aedes.js `this.clients`), which its types leave out.
      for (const client of Object.values((aedes as Aedes & { clients: Record<string, Client> }).clients)) {
        const identity = identityOf(client);
        if (identity?.kind !== 'device' || !ids.has(identity.device.device)) continue;
        client.close();
        closed++;
      }
      return closed;
    },
  };
}

function kindOf(client: Client): string {
  return identityOf(client)?.kind ?? 'unknown';
}
