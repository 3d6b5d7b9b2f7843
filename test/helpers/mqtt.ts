import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** A real MQTT client over TCP, connected as a device (username = id, password = secret). */
export async function connectDevice(port: number, id: string, secret: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 5000, ...extra });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (err) => reject(err));
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
  return client;
}

/** Tries to connect and reports how the broker answered: 'connected' or the CONNACK/return code error. */
export async function tryConnect(
  port: number,
  username: string | undefined,
  password: string | undefined,
  clientId = `probe-${Math.random().toString(36).slice(2)}`,
) {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId, username, password, reconnectPeriod: 0, connectTimeout: 5000 });
  try {
    return await new Promise<{ connected: boolean; code?: number; message?: string }>((resolve) => {
      client.once('connect', () => resolve({ connected: true }));
      client.once('error', (err: Error & { code?: number }) => resolve({ connected: false, code: err.code, message: err.message }));
      client.once('close', () => resolve({ connected: false, message: 'closed' }));
    });
  } finally {
    client.end(true);
  }
}

export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });
}

export function endClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}
