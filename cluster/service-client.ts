import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ClusterError } from './errors.js';

/**
 * The MQTT connection of a service process (ingest, rules, dashboard) to the broker at MQTT_URL, logged in with
 * the service credentials. MQTT v5 first (shared subscriptions, request/response properties); a broker that only
 * speaks 3.1.1 (the embedded aedes broker refuses v5 with return code 1) gets a 3.1.1 connection instead, and
 * the caller learns that shared subscriptions are unavailable.
 */
export interface ServiceClientOptions {
  url: string;
  username: string;
  password?: string;
  clientId: string;
  /** Keep the session (subscriptions, unacknowledged QoS 1 messages) across reconnects and restarts. */
  persistentSession?: boolean;
  will?: IClientOptions['will'];
  /** How long start-up waits for the first CONNACK before giving up with a clear error. */
  connectWaitMs?: number;
  logger: Logger;
  /** Called before the client connects, so handlers exist before the broker redelivers a resumed session. */
  prepare?: (client: MqttClient) => void;
}

export interface ServiceClient {
  client: MqttClient;
  protocolVersion: 4 | 5;
  /** MQTT v5 and the broker did not say sharedSubscriptionAvailable = false. */
  sharedSubscriptions: boolean;
  end(): Promise<void>;
}

const SESSION_EXPIRY_SEC = 24 * 3600;
const REFUSED_PROTOCOL = new Set([1, 0x84]);
const REFUSED_AUTH = new Set([4, 5, 0x86, 0x87, 0x8c]);

export async function connectServiceClient(o: ServiceClientOptions): Promise<ServiceClient> {
  if (!o.password)
    throw new ClusterError(
      'MQTT_REFUSED',
      'MQTT_SERVICE_PASSWORD is not set: split-mode processes log in to the broker with MQTT_SERVICE_USERNAME / MQTT_SERVICE_PASSWORD',
    );
  try {
    return await attempt(o, 5);
  } catch (err) {
    if (err instanceof ProtocolRefused) {
      o.logger.warn({ url: o.url }, 'the broker does not speak MQTT v5 (the embedded aedes broker does not): using MQTT 3.1.1, without shared subscriptions');
      return attempt(o, 4);
    }
    throw err;
  }
}

class ProtocolRefused extends Error {}

function attempt(o: ServiceClientOptions, protocolVersion: 4 | 5): Promise<ServiceClient> {
  const persistent = o.persistentSession ?? false;
  const client = mqtt.connect(o.url, {
    clientId: o.clientId,
    username: o.username,
    password: o.password,
    protocolVersion,
    clean: !persistent,
    ...(protocolVersion === 5 && persistent ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_SEC } } : {}),
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    will: o.will,
    manualConnect: true,
  });
  o.prepare?.(client);
  const waitMs = o.connectWaitMs ?? 60_000;
  return new Promise((resolve, reject) => {
    let lastError = '';
    const progress = setInterval(() => o.logger.info({ url: o.url, lastError }, 'waiting for the MQTT broker'), 5000);
    const timer = setTimeout(() => {
      finish();
      client.end(true);
      reject(
        new ClusterError(
          'MQTT_UNREACHABLE',
          `no MQTT broker answered at ${o.url} within ${waitMs / 1000} s (${lastError || 'no answer'}): start the broker (Mosquitto, or npm start -- --only broker) or fix MQTT_URL`,
        ),
      );
    }, waitMs);
    const finish = () => {
      clearInterval(progress);
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
    };
    const onConnect = (ack: IConnackPacket) => {
      finish();
      client.on('error', (err) => o.logger.warn({ err: err.message }, 'MQTT connection error; reconnecting'));
      client.on('offline', () => o.logger.warn({ url: o.url }, 'MQTT connection lost; reconnecting'));
      client.on('connect', () => o.logger.info({ url: o.url }, 'MQTT connection back'));
      o.logger.info({ url: o.url, clientId: o.clientId, protocolVersion, sessionPresent: ack.sessionPresent }, 'connected to the MQTT broker');
      resolve({
        client,
        protocolVersion,
        sharedSubscriptions: protocolVersion === 5 && ack.properties?.sharedSubscriptionAvailable !== false,
        end: () => new Promise<void>((done) => client.end(false, {}, () => done())),
      });
    };
    const onError = (err: Error & { code?: number }) => {
      lastError = err.message;
      if (typeof err.code === 'number' && REFUSED_PROTOCOL.has(err.code) && protocolVersion === 5) {
        finish();
        client.end(true);
        return reject(new ProtocolRefused(err.message));
      }
      if (typeof err.code === 'number' && REFUSED_AUTH.has(err.code)) {
        finish();
        client.end(true);
        reject(
          new ClusterError(
            'MQTT_REFUSED',
            `the broker at ${o.url} refused ${o.username} (${err.message}): check MQTT_SERVICE_USERNAME / MQTT_SERVICE_PASSWORD against the broker's password file (npm run mosquitto-config)`,
          ),
        );
      }
    };
    client.on('connect', onConnect);
    client.on('error', onError);
    client.connect();
  });
}
