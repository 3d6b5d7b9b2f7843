import { createServer, type AddressInfo } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { BufferList, BufferListStream } from 'bl';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetConnectPacket, useLeanParserBuffer } from '../../broker/lean-parser.js';
import { connectPacket, packet, rawSocket } from '../helpers/raw-mqtt.js';

/**
 * The broker swaps the stream aedes' parser buffers bytes in for a plain list (broker/lean-parser.ts): real aedes,
 * raw TCP sockets, packets cut into single bytes and packets glued together in one write.
 */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function broker() {
  const aedes = await Aedes.createBroker();
  const clients: Client[] = [];
  const swapped: boolean[] = [];
  const server = createServer((socket) => {
    const client = aedes.handle(socket);
    clients.push(client);
    swapped.push(useLeanParserBuffer(client));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const received: { topic: string; payload: string }[] = [];
  const forgot: boolean[] = [];
  aedes.on('client', (client) => forgot.push(forgetConnectPacket(client)));
  aedes.on('publish', (p) => {
    if (!p.topic.startsWith('$SYS')) received.push({ topic: p.topic, payload: p.payload.toString() });
  });
  return { port: (server.address() as AddressInfo).port, clients, swapped, forgot, received };
}

async function until(probe: () => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const publish = (topic: string, payload: string) => packet({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false });

const settingsOf = (client: Client) => (client as unknown as { _parser: { settings: Record<string, unknown> } })._parser.settings;

describe('what the parser of each connection keeps', () => {
  it('swaps the stream for a BufferList before the first byte, and every packet still arrives whole however it is cut', async () => {
    const b = await broker();
    const socket = await rawSocket(b.port);
    closers.push(async () => void socket.destroy());
    await until(() => b.clients.length === 1, 'the connection');
    expect(b.swapped).toEqual([true]);
    const list = (b.clients[0] as unknown as { _parser: { _list: unknown } })._parser._list;
    expect(list).toBeInstanceOf(BufferList);
    expect(list).not.toBeInstanceOf(BufferListStream);

    // A CONNECT and a PUBLISH one byte at a time (a packet spread over many reads)...
    const big = 'x'.repeat(3000);
    for (const byte of Buffer.concat([connectPacket('dev-1', 'dev-1', 'secret'), publish('t/one', big)])) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    // ...then three packets in one write, the last cut in two.
    const glued = Buffer.concat([publish('t/two', 'b'), publish('t/three', 'c'), publish('t/four', 'dddd')]);
    socket.write(glued.subarray(0, glued.length - 3));
    await new Promise((r) => setTimeout(r, 20));
    socket.write(glued.subarray(glued.length - 3));
    await until(() => b.received.length === 4, 'four messages');
    expect(b.received).toEqual([
      { topic: 't/one', payload: big },
      { topic: 't/two', payload: 'b' },
      { topic: 't/three', payload: 'c' },
      { topic: 't/four', payload: 'dddd' },
    ]);
    expect((list as { length: number }).length).toBe(0);
  });

  it('leaves a parser alone that already holds bytes or has no list', () => {
    const holding = { _parser: { _list: new BufferListStream(Buffer.from([0x10])) } };
    expect(useLeanParserBuffer(holding as unknown as Client)).toBe(false);
    expect(holding._parser._list).toBeInstanceOf(BufferListStream);
    expect(useLeanParserBuffer({} as unknown as Client)).toBe(false);
    expect(useLeanParserBuffer({ _parser: {} } as unknown as Client)).toBe(false);
  });
});

describe('the CONNECT packet is not kept once the client is connected', () => {
  // aedes speaks MQTT 3.1 and 3.1.1 (it refuses 5).
  for (const protocolVersion of [3, 4] as const)
    it(`MQTT ${protocolVersion === 4 ? '3.1.1' : '3.1'}: the password is gone from the parser, and the packets after the CONNECT still parse`, async () => {
      const b = await broker();
      const client = mqtt.connect(`mqtt://127.0.0.1:${b.port}`, {
        clientId: 'dev-2',
        username: 'dev-2',
        password: 'dev-only-secret',
        protocolVersion,
        protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
        reconnectPeriod: 0,
      });
      closers.push(() => client.endAsync());
      await new Promise<void>((resolve, reject) => client.once('connect', () => resolve()).once('error', reject));
      expect(b.forgot).toEqual([true]);
      expect(settingsOf(b.clients[0])).toEqual({ protocolVersion, bridgeMode: undefined });
      expect(JSON.stringify(settingsOf(b.clients[0]))).not.toContain('dev-only-secret');
      // Subscribe, publish at QoS 1 and get it back: SUBSCRIBE, PUBLISH and PUBACK are parsed with the version kept.
      await client.subscribeAsync('t/back', { qos: 1 });
      const back = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString())));
      await client.publishAsync('t/back', 'hello', { qos: 1 });
      expect(await back).toBe('hello');
    });
});
