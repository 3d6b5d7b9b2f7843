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
