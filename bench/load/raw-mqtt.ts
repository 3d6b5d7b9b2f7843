import { connect as netConnect, type Socket } from 'node:net';
import { generate, parser as createParser, type Packet } from 'mqtt-packet';

/**
 * A lean MQTT 3.1.1 client over one TCP socket, built on mqtt-packet (the codec aedes and MQTT.js use).
 * The load generator holds thousands of these in one process, so it keeps no per-message state beyond a
 * count of unacknowledged QoS 1 publishes and PINGREQs; callers get PUBACK / PINGRESP / PUBLISH callbacks.
 */
export interface RawClientOptions {
  host: string;
  port: number;
  clientId: string;
  username?: string;
  password?: string;
  keepaliveSec?: number;
  will?: { topic: string; payload: string; qos: 0 | 1; retain: boolean };
  connectTimeoutMs?: number;
}

export interface RawClientEvents {
  onPuback?: () => void;
  onPingresp?: () => void;
  onMessage?: (topic: string, payload: Buffer, qos: number) => void;
  onClose?: (reason: string) => void;
  /** The socket's send buffer emptied after writeEncoded returned false. */
  onDrain?: () => void;
}

export interface RawClient {
  readonly clientId: string;
  /** QoS 1 publishes not yet acknowledged. */
  inflight: number;
  /** PINGREQs not yet answered. */
  pings: number;
  /** Epoch ms of the last packet this client wrote. */
  lastWriteAt: number;
  connected(): boolean;
  connect(): Promise<void>;
  publish(topic: string, payload: string | Buffer, qos: 0 | 1, retain?: boolean): void;
  ping(): void;
  /** The next QoS 1 message id (1..65535, wrapping). */
  nextMessageId(): number;
  /**
   * Writes PUBLISH packets the caller encoded (encode.ts), `qos1` of them QoS 1 (counted in `inflight`).
   * false: the socket's buffer is over its high-water mark; write more after onDrain.
   */
  writeEncoded(chunk: Buffer, qos1: number): boolean;
  subscribe(filter: string, qos: 0 | 1): Promise<number>;
  /** Batches the writes of one synchronous burst into fewer syscalls. */
  cork(): void;
  end(): Promise<void>;
  destroy(): void;
}

export class ConnectRefused extends Error {
  readonly code = 'BENCH_CONNECT_REFUSED';
  constructor(
    readonly clientId: string,
    readonly returnCode: number,
  ) {
    super(`${clientId}: the broker refused the connection (CONNACK return code ${returnCode}); check the bench farm's device secrets`);
  }
}

export function createRawClient(o: RawClientOptions, events: RawClientEvents = {}): RawClient {
  let socket: Socket | undefined;
  let isConnected = false;
  let nextId = 0;
  let corked = false;
  let subackWaiter: ((granted: number) => void) | undefined;

  const write = (packet: Packet) => {
    if (!socket || socket.destroyed) return;
    socket.write(generate(packet));
    client.lastWriteAt = Date.now();
  };
  const messageId = () => (nextId = (nextId % 65535) + 1);

  const client: RawClient = {
    clientId: o.clientId,
    inflight: 0,
    pings: 0,
    lastWriteAt: 0,
    connected: () => isConnected,
    connect() {
      return new Promise<void>((resolve, reject) => {
        const parser = createParser({ protocolVersion: 4 });
        const s = netConnect({ host: o.host, port: o.port });
        socket = s;
        s.setNoDelay(true);
        let settled = false;
        const timer = setTimeout(() => fail(new Error(`${o.clientId}: no CONNACK within ${o.connectTimeoutMs ?? 30_000} ms`)), o.connectTimeoutMs ?? 30_000);
        function fail(err: Error) {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          s.destroy();
          reject(err);
        }
        parser.on('packet', (p: Packet) => {
          switch (p.cmd) {
            case 'connack':
              clearTimeout(timer);
              if (p.returnCode !== 0) return fail(new ConnectRefused(o.clientId, p.returnCode ?? -1));
              isConnected = true;
              settled = true;
              resolve();
              return;
            case 'puback':
              client.inflight--;
              events.onPuback?.();
              return;
            case 'pingresp':
              client.pings--;
              events.onPingresp?.();
              return;
            case 'suback':
              subackWaiter?.(p.granted[0] as number);
              subackWaiter = undefined;
              return;
            case 'publish':
              if (p.qos === 1) write({ cmd: 'puback', messageId: p.messageId });
              events.onMessage?.(p.topic, p.payload as Buffer, p.qos);
              return;
            default:
              return;
          }
        });
        parser.on('error', (err: Error) => s.destroy(err));
        s.on('data', (chunk) => parser.parse(chunk));
        s.on('drain', () => events.onDrain?.());
        s.on('error', (err) => fail(err));
        s.on('close', () => {
          const was = isConnected;
          isConnected = false;
          if (!settled) fail(new Error(`${o.clientId}: connection closed before CONNACK`));
          else if (was) events.onClose?.('closed');
        });
        s.on('connect', () =>
          write({
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: 4,
            clean: true,
            clientId: o.clientId,
            keepalive: o.keepaliveSec ?? 60,
            username: o.username,
            password: o.password === undefined ? undefined : Buffer.from(o.password),
            will: o.will ? { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: o.will.qos, retain: o.will.retain } : undefined,
          }),
        );
      });
    },
    publish(topic, payload, qos, retain = false) {
      if (qos === 1) {
        client.inflight++;
        write({ cmd: 'publish', topic, payload, qos: 1, retain, dup: false, messageId: messageId() });
      } else {
        write({ cmd: 'publish', topic, payload, qos: 0, retain, dup: false });
      }
    },
    ping() {
      client.pings++;
      write({ cmd: 'pingreq' });
    },
    nextMessageId: messageId,
    writeEncoded(chunk, qos1) {
      if (!socket || socket.destroyed) return false;
      client.inflight += qos1;
      client.lastWriteAt = Date.now();
      return socket.write(chunk);
    },
    subscribe(filter, qos) {
      return new Promise((resolve) => {
        subackWaiter = resolve;
        write({ cmd: 'subscribe', messageId: messageId(), subscriptions: [{ topic: filter, qos }] });
      });
    },
    cork() {
      if (corked || !socket) return;
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket?.uncork();
      });
    },
    end() {
      return new Promise<void>((resolve) => {
        const s = socket;
        if (!s || s.destroyed) return resolve();
        isConnected = false;
        const timer = setTimeout(() => (s.destroy(), resolve()), 2000);
        s.once('close', () => (clearTimeout(timer), resolve()));
        s.end(generate({ cmd: 'disconnect' }));
      });
    },
    destroy() {
      isConnected = false;
      socket?.destroy();
    },
  };
  return client;
}
