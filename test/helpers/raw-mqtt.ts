import { connect, type Socket } from 'node:net';
import { generate, type Packet } from 'mqtt-packet';

/** A bare TCP socket speaking hand-made MQTT packets: for what a well-behaved client library refuses to send. */
export async function rawSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  // Read whatever the broker sends (CONNACK ...): a paused socket never sees the peer's FIN, so never 'close'.
  socket.resume();
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

export function packet(p: Partial<Packet> & { cmd: Packet['cmd'] }): Buffer {
  return generate(p as Packet);
}

export function connectPacket(clientId: string, username: string, password: string): Buffer {
  return packet({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 30, username, password: Buffer.from(password) });
}

export function socketClosed(socket: Socket, timeoutMs = 10_000): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The fixed header of an MQTT packet (MQTT 3.1.1 §2.2): type and flags, then the remaining length as a variable byte integer. */
export function fixedHeader(typeAndFlags: number, remainingLength: number): Buffer {
  const bytes = [typeAndFlags];
  let n = remainingLength;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    bytes.push(digit);
  } while (n > 0);
  return Buffer.from(bytes);
}

/** Resolves with the first CONNACK's return code the broker sends on a raw socket (undefined if it closes first). */
export function connackCode(socket: Socket, timeoutMs = 10_000): Promise<number | undefined> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got[0] === 0x20) done(got[3]);
    };
    const onClose = () => done(undefined);
    function done(code: number | undefined) {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(code);
    }
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/**
 * Writes `totalBytes` of zeros as fast as the socket takes them, stopping early once the peer closes: what a client
 * does after announcing a huge packet. Reports how much it wrote and whether the peer closed before the end.
 */
export async function streamZeros(socket: Socket, totalBytes: number, chunkBytes = 1024 * 1024): Promise<{ sentBytes: number; closedEarly: boolean }> {
  const chunk = Buffer.alloc(chunkBytes);
  const closed = new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
  let sentBytes = 0;
  while (sentBytes < totalBytes && !socket.destroyed) {
    const ok = socket.write(chunk.subarray(0, Math.min(chunkBytes, totalBytes - sentBytes)));
    sentBytes += Math.min(chunkBytes, totalBytes - sentBytes);
    if (!ok) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
  }
  return { sentBytes, closedEarly: socket.destroyed && sentBytes < totalBytes };
}
