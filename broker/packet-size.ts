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

const OK: FrameVerdict = Object.freeze({ ok: true });

/**
 * Follows the framing of one connection's byte stream: fixed header byte, remaining length (1 to 4 bytes, 7 bits
 * each), then that many body bytes, which are skipped by counting, never copied. `stageNow` is asked when a
 * packet's length is complete, so a login decided meanwhile raises the limit for the packets after it.
 * A class: one is held per connection, and its methods are shared, not closures made for each.
 */
class Framing implements FrameWatcher {
  private phase: 'type' | 'length' | 'body' = 'type';
  private packetType = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;
  private packetIndex = 0;

  constructor(
    private readonly limits: PacketSizeLimits,
    private readonly stageNow: (packetIndex: number) => PacketStage,
  ) {}

  private judge(): FrameVerdict {
    const stage = this.stageNow(this.packetIndex);
    const limitBytes = limitFor(stage, this.limits);
    return this.length > limitBytes ? { ok: false, packetType: this.packetType, announcedBytes: this.length, limitBytes, stage } : OK;
  }

  feed(chunk: Buffer): FrameVerdict {
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'type') {
        this.packetType = chunk[i++] >> 4;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        this.phase = 'length';
      } else if (this.phase === 'length') {
        const byte = chunk[i++];
        this.length += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (byte & 0x80) {
          // A fifth length byte is malformed (§2.2.3): as good as announcing more than MQTT allows.
          if (this.lengthBytes === 4) {
            const stage = this.stageNow(this.packetIndex);
            return { ok: false, packetType: this.packetType, announcedBytes: MQTT_MAX_REMAINING_LENGTH + 1, limitBytes: limitFor(stage, this.limits), stage };
          }
          continue;
        }
        const verdict = this.judge();
        if (!verdict.ok) return verdict;
        this.packetIndex++;
        this.bodyLeft = this.length;
        this.phase = this.bodyLeft > 0 ? 'body' : 'type';
      } else {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= take;
        i += take;
        if (this.bodyLeft === 0) this.phase = 'type';
      }
    }
    return OK;
  }
}

export function createFrameWatcher(limits: PacketSizeLimits, stageNow: (packetIndex: number) => PacketStage): FrameWatcher {
  return new Framing(limits, stageNow);
}
