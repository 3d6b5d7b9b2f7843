import type { MqttClient } from 'mqtt';
import type { IPublishPacket } from 'mqtt-packet';

/**
 * Acknowledges (PUBACK) a QoS 1 message from the broker only once `handle` has resolved, i.e. once ingest has
 * made its readings durable. Until then the message belongs to the broker's session for this client: if the
 * process dies, the broker delivers it again when the same client id reconnects.
 *
 * Why not mqtt.js `customHandleAcks` or an overridden `handleMessage` holding its callback: mqtt.js processes
 * incoming packets one at a time and waits for that callback (which sends the PUBACK) before reading the next
 * packet. Holding it for a group commit would let one message through per batch interval. So `handleMessage`
 * calls back at once and the PUBACK packet itself is held here, then sent in arrival order (the batcher
 * resolves in order) on the same connection it belongs to. This touches mqtt.js's `_sendPacket`, which is not
 * public API: start-up fails loudly if it is missing, and test/cluster covers the behaviour.
 */
export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => Promise<void>;

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;
interface Internals {
  _sendPacket: SendPacket;
  stream: unknown;
}

export interface DeferredAcks {
  /** Messages received and not yet acknowledged. */
  pending(): number;
}

export function handleWithDeferredAcks(client: MqttClient, handle: MessageHandler, onFailure: (err: unknown, topic: string) => void): DeferredAcks {
  const c = client as unknown as Internals;
  if (typeof c._sendPacket !== 'function')
    throw new Error('this mqtt.js version has no _sendPacket: acknowledgements cannot be held until readings are durable; pin mqtt to 5.x (package.json)');
  const original = c._sendPacket.bind(c);
  const outcomes = new Map<number, { done: Promise<boolean>; stream: unknown }>();
  let inFlight = 0;

  client.handleMessage = (packet, callback) => {
    const publish = packet;
    inFlight++;
    const done = handle(publish.topic, publish.payload as Buffer, publish).then(
      () => true,
      (err: unknown) => {
        onFailure(err, publish.topic);
        return false;
      },
    );
    void done.finally(() => inFlight--);
    if (publish.qos === 1 && publish.messageId !== undefined) outcomes.set(publish.messageId, { done, stream: c.stream });
    callback();
  };

  c._sendPacket = (packet, cb, ...rest) => {
    const held = packet.cmd === 'puback' && packet.messageId !== undefined ? outcomes.get(packet.messageId) : undefined;
    if (!held) return original(packet, cb, ...rest);
    outcomes.delete(packet.messageId!);
    cb?.(); // let mqtt.js read the next packet now
    void held.done.then((ok) => {
      // Not durable: no PUBACK, so the broker redelivers it after a reconnect. A PUBACK from an earlier
      // connection must not go out on a new one, where the same message id may mean another message.
      if (ok && c.stream === held.stream && client.connected) original(packet);
    });
  };

  return { pending: () => inFlight };
}
