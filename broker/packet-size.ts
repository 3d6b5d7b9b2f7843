/**
 * The largest MQTT packet the broker takes from a client, decided from the remaining length the client announces
 * in the packet's fixed header (MQTT 3.1.1 §2.2.3), as soon as those few bytes arrive and before the body is read.
 * The parser aedes uses (mqtt-packet) buffers whatever is announced, up to MQTT's 256 MB maximum, even for a CONNECT
 * from a client that has not logged in: eight sockets announcing 200 MB took the process from 249 MB to 1.7 GB.
 * Mosquitto's `max_packet_size` works the same way: a packet announced larger than the limit closes the connection.
 *
 * Pure: the broker feeds the bytes of each connection in order (packet-guard.ts) and acts on the verdict.
 */
export type PacketStage = 'before_connect' | 'authenticating' | 'device' | 'service';

export interface PacketSizeLimits {
  /** The first packet, which must be a CONNECT: client id, credentials and a Will fit in far less. */
  connectBytes: number;
  /** Any packet of a device, and any packet sent behind a CONNECT before its login is decided. */
  deviceBytes: number;
  /** Packets of service components (cluster events, rules requests and answers in split mode). */
  serviceBytes: number;
}

/**
 * A CONNECT carries a client id (at most MAX_CLIENT_ID_LENGTH), a user name, a password and a Will (a status topic
 * and `offline`): a few hundred bytes. 4 KiB leaves room for long service passwords and topic roots.
 */
export const MAX_CONNECT_BYTES = 4096;
/**
 * What a PUBLISH carries besides its payload: the topic's length (2 bytes), the topic (a device topic is
 * root/site/zone/device/channel with ids of at most 64 characters) and the packet id (2 bytes).
 */
export const PUBLISH_OVERHEAD_BYTES = 1024;
/** MQTT's own ceiling for the remaining length (§2.2.3): four bytes of variable byte integer. */
export const MQTT_MAX_REMAINING_LENGTH = 268_435_455;

export function packetSizeLimits(maxPayloadBytes: number, serviceBytes: number): PacketSizeLimits {
  return { connectBytes: MAX_CONNECT_BYTES, deviceBytes: maxPayloadBytes + PUBLISH_OVERHEAD_BYTES, serviceBytes };
}

export function limitFor(stage: PacketStage, limits: PacketSizeLimits): number {
  switch (stage) {
    case 'before_connect':
      return limits.connectBytes;
    case 'authenticating':
    case 'device':
      return limits.deviceBytes;
    case 'service':
      return limits.serviceBytes;
  }
}

/** MQTT control packet type numbers (§2.2.1) that the refusal reports name. */
export const PUBLISH = 3;

export type FrameVerdict = { ok: true } | { ok: false; packetType: number; announcedBytes: number; limitBytes: number; stage: PacketStage };

export interface FrameWatcher {
  /** The next bytes of the connection, in order. Once a verdict is not ok, the connection must be closed. */
  feed(chunk: Buffer): FrameVerdict;
}

/**
 * Follows the framing of one connection's byte stream: fixed header byte, remaining length (1 to 4 bytes, 7 bits
 * each), then that many body bytes, which are skipped by counting, never copied. `stageNow` is asked when a
 * packet's length is complete, so a login decided meanwhile raises the limit for the packets after it.
 */
export function createFrameWatcher(limits: PacketSizeLimits, stageNow: (packetIndex: number) => PacketStage): FrameWatcher {
  let phase: 'type' | 'length' | 'body' = 'type';
  let packetType = 0;
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let bodyLeft = 0;
  let packetIndex = 0;

  function judge(): FrameVerdict {
    const stage = stageNow(packetIndex);
    const limitBytes = limitFor(stage, limits);
    return length > limitBytes ? { ok: false, packetType, announcedBytes: length, limitBytes, stage } : { ok: true };
  }

  return {
    feed(chunk) {
      let i = 0;
      while (i < chunk.length) {
        if (phase === 'type') {
          packetType = chunk[i++] >> 4;
          length = 0;
          multiplier = 1;
          lengthBytes = 0;
          phase = 'length';
        } else if (phase === 'length') {
          const byte = chunk[i++];
          length += (byte & 0x7f) * multiplier;
          multiplier *= 128;
          lengthBytes++;
          if (byte & 0x80) {
            // A fifth length byte is malformed (§2.2.3): as good as announcing more than MQTT allows.
            if (lengthBytes === 4) return { ok: false, packetType, announcedBytes: MQTT_MAX_REMAINING_LENGTH + 1, limitBytes: limitFor(stageNow(packetIndex), limits), stage: stageNow(packetIndex) };
            continue;
          }
          const verdict = judge();
          if (!verdict.ok) return verdict;
          packetIndex++;
          bodyLeft = length;
          phase = bodyLeft > 0 ? 'body' : 'type';
        } else {
          const take = Math.min(bodyLeft, chunk.length - i);
          bodyLeft -= take;
          i += take;
          if (bodyLeft === 0) phase = 'type';
        }
      }
      return { ok: true };
    },
  };
}
