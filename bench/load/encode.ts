/**
 * MQTT 3.1.1 PUBLISH packets written straight into a buffer (§3.3), for the pipelined generator: at 100,000+
 * messages a second the generator shares the 2 cores with the broker under test, so it builds each packet with
 * a few byte writes instead of mqtt-packet's generate() (an object and a buffer per message).
 * The payload must be ASCII (the generator's JSON is), so its length in bytes is its length in characters.
 */
export function publishSize(topic: Buffer, payloadLength: number, qos: 0 | 1): number {
  const remaining = 2 + topic.length + (qos === 1 ? 2 : 0) + payloadLength;
  return 1 + varintSize(remaining) + remaining;
}

/** Writes one PUBLISH at `offset`; returns the offset after it. The caller makes sure `publishSize` bytes fit. */
export function writePublish(out: Buffer, offset: number, topic: Buffer, payload: string, qos: 0 | 1, messageId: number): number {
  let o = offset;
  out[o++] = qos === 1 ? 0x32 : 0x30;
  let remaining = 2 + topic.length + (qos === 1 ? 2 : 0) + payload.length;
  do {
    let byte = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) byte |= 0x80;
    out[o++] = byte;
  } while (remaining > 0);
  out.writeUInt16BE(topic.length, o);
  o += 2;
  o += topic.copy(out, o);
  if (qos === 1) {
    out.writeUInt16BE(messageId, o);
    o += 2;
  }
  o += out.write(payload, o, 'latin1');
  return o;
}

function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}
