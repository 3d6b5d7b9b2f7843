import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';

/** A real MQTT broker for the runner tests: refuses unknown devices and wrong secrets, records every publish. */
export interface Published {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  client?: string;
}

export interface TestBroker {
  url: string;
  published: Published[];
  connected: Set<string>;
  close(): Promise<void>;
}

export async function startTestBroker(secrets: Map<string, string>): Promise<TestBroker> {
  const published: Published[] = [];
  const connected = new Set<string>();
  const aedes = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      if (username !== undefined && secrets.get(username) === password?.toString()) return done(null, true);
      const err = new Error('bad username or password') as AuthenticateError;
      err.returnCode = 4;
      done(err, null);
    },
  });
  aedes.on('client', (c) => connected.add(c.id));
  aedes.on('clientDisconnect', (c) => connected.delete(c.id));
  aedes.on('publish', (packet, client) => {
    if (packet.topic.startsWith('$SYS')) return;
    published.push({ topic: packet.topic, payload: packet.payload.toString(), qos: packet.qos, retain: packet.retain, client: client?.id });
  });
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    published,
    connected,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function waitUntil<T>(probe: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
