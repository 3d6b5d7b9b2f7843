import { connect, type IClientOptions, type MqttClient } from 'mqtt';

/**
 * One simulated device's MQTT connection: authenticates as itself, leaves a retained `offline` will,
 * announces `online`, and (for an actuator) listens on its own cmd topic.
 */
export interface DeviceClientOptions {
  brokerUrl: string;
  brokerTls?: { rejectUnauthorized: boolean };
  device: string;
  password: string;
  statusTopic: string;
  cmdTopic?: string;
  onConnect?: () => void;
  onCommand?: (payload: Buffer) => void;
  onError?: (err: Error, fatal: boolean) => void;
  /** The connection closed: `deliberate` when this side ended it (close, drop, refused credentials). */
  onClose?: (deliberate: boolean) => void;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
}

export interface DeviceClient {
  readonly device: string;
  connected(): boolean;
  /** The broker refused the credentials; the client has given up. */
  refused(): boolean;
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  /** A crash: the socket is dropped without DISCONNECT, so the broker publishes the will. */
  drop(): void;
  /** A clean goodbye: retained `offline`, then DISCONNECT. */
  close(timeoutMs?: number): Promise<void>;
}

/** CONNACK return codes 4 and 5 (and their MQTT 5 equivalents 134, 135): retrying cannot help. */
function isAuthFailure(err: Error & { code?: number }): boolean {
  return err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135;
}

export function createDeviceClient(o: DeviceClientOptions): DeviceClient {
  const options: IClientOptions = {
    clientId: o.device,
    username: o.device,
    password: o.password,
    clean: true,
    keepalive: 60,
    reconnectPeriod: o.reconnectPeriodMs ?? 2000,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    will: { topic: o.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    ...o.brokerTls,
  };
  const client: MqttClient = connect(o.brokerUrl, options);
  let closed = false;
  let refused = false;
  client.on('connect', () => {
    client.publish(o.statusTopic, 'online', { qos: 1, retain: true });
    if (o.cmdTopic) client.subscribe(o.cmdTopic, { qos: 1 });
    o.onConnect?.();
  });
  client.on('message', (topic, payload) => {
    if (topic === o.cmdTopic) o.onCommand?.(payload);
  });
  client.on('error', (err: Error & { code?: number }) => {
    const fatal = isAuthFailure(err);
    o.onError?.(err, fatal);
    if (fatal) {
      closed = true;
      refused = true;
      client.end(true);
    }
  });
  let wasConnected = false;
  client.on('connect', () => (wasConnected = true));
  client.on('close', () => {
    // Only a connection that was up counts: a refused or failed attempt is not the broker closing it.
    if (wasConnected) o.onClose?.(closed);
    wasConnected = false;
  });

  return {
    device: o.device,
    connected: () => client.connected,
    refused: () => refused,
    publish: (topic, payload, opts) =>
      new Promise((resolve, reject) => {
        client.publish(topic, payload, { qos: opts.qos, retain: opts.retain ?? false }, (err) => (err ? reject(err) : resolve()));
      }),
    drop() {
      closed = true;
      client.end(true);
    },
    close(timeoutMs = 3000) {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => client.end(true, () => resolve()), timeoutMs);
        const finish = () =>
          client.end(false, () => {
            clearTimeout(timer);
            resolve();
          });
        if (!client.connected) {
          clearTimeout(timer);
          client.end(true, () => resolve());
          return;
        }
        client.publish(o.statusTopic, 'offline', { qos: 1, retain: true }, finish);
      });
    },
  };
}
