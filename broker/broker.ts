import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Aedes, type Client, type AuthenticateError } from 'aedes';
import type { Logger } from 'pino';
import type { FarmIndex } from '../core/farm-index.js';
import type { FarmMetrics } from '../core/observability.js';
import type { RejectReason } from '../core/events.js';
import { authenticate, mayPublish, maySubscribe, type Identity, type ServiceCredentials } from './policy.js';
import { createRateLimiter } from './rate-limit.js';

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
const IDENTITY = Symbol('farmIdentity');
type FarmClient = Client & { [IDENTITY]?: Identity };

export async function createBroker(deps: BrokerDeps, options: BrokerOptions): Promise<Broker> {
  const { logger, metrics } = deps;
  const limiter = createRateLimiter({ ratePerSec: options.maxMessagesPerSecond, burst: options.burst });
  const aedes = await Aedes.createBroker({ maxClientsIdLength: 128, connectTimeout: 10_000, drainTimeout: 10_000, heartbeatInterval: 60_000 });

  aedes.authenticate = (client, username, password, done) => {
    authenticate(deps.farm(), deps.service, username, password).then(
      (result) => {
        if (!result.ok) {
          metrics.authFailures.inc({ reason: result.reason });
          logger.warn({ clientId: client.id, username, reason: result.reason }, 'MQTT connection refused');
          const err = new Error(`connection refused: ${result.reason}`) as AuthenticateError;
          err.returnCode = result.reason === 'unknown_device' || result.reason === 'no_credentials' ? 4 : result.reason === 'no_secret' ? 5 : 4;
          return done(err, false);
        }
        // A device may not take over another device's session by borrowing its client id.
        const owner = deps.farm().device(client.id);
        if (result.identity.kind === 'device' && owner && owner.device !== result.identity.device.device) {
          metrics.authFailures.inc({ reason: 'foreign_client_id' });
          const err = new Error('client id belongs to another device') as AuthenticateError;
          err.returnCode = 2;
          return done(err, false);
        }
        (client as FarmClient)[IDENTITY] = result.identity;
        done(null, true);
      },
      (err) => {
        logger.error({ err }, 'authentication failed unexpectedly');
        const e = new Error('server unavailable') as AuthenticateError;
        e.returnCode = 3;
        done(e, false);
      },
    );
  };

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
      logger.warn({ device: deviceId }, 'device exceeds its message rate; connection closed');
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

  aedes.on('client', (client) => metrics.mqttClients.inc({ kind: kindOf(client) }));
  aedes.on('clientDisconnect', (client) => {
    metrics.mqttClients.dec({ kind: kindOf(client) });
    const identity = (client as FarmClient)[IDENTITY];
    if (identity?.kind === 'device') {
      limiter.forget(identity.device.device);
      deps.onDeviceDisconnect?.(identity.device.device);
    }
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

  const servers: Server[] = [];
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host, () => resolve((server.address() as AddressInfo).port));
    });

  return {
    aedes,
    async start() {
      const plain = createServer(aedes.handle);
      servers.push(plain);
      const port = await listen(plain, options.port);
      let tlsPort: number | undefined;
      if (options.tls) {
        const secure = createTlsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, aedes.handle);
        servers.push(secure);
        tlsPort = await listen(secure, options.tls.port);
      }
      logger.info({ port, tlsPort }, 'MQTT broker listening');
      return { port, tlsPort };
    },
    async stop() {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
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
