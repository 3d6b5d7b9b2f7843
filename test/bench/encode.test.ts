import { parser as createParser, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { publishSize, writePublish } from '../../bench/load/encode.js';

function parseAll(buf: Buffer): Packet[] {
  const packets: Packet[] = [];
  const p = createParser({ protocolVersion: 4 });
  p.on('packet', (packet: Packet) => packets.push(packet));
  p.on('error', (err: Error) => {
    throw err;
  });
  p.parse(buf);
  return packets;
}

describe('pipelined generator packet encoding', () => {
  it('writes PUBLISH packets that an MQTT parser reads back as sent, QoS 0 and 1, several per buffer', () => {
    const topic = Buffer.from('farm/bench/load-000/load-00001/telemetry');
    const small = '{"ts":1732280000123,"metrics":{"temperature":16.5}}';
    // Over 127 and 16,383 bytes of remaining length: two- and three-byte length fields.
    const medium = `{"pad":"${'x'.repeat(200)}"}`;
    const large = `{"pad":"${'y'.repeat(20_000)}"}`;
    const sent = [
      { payload: small, qos: 0 as const, id: 0 },
      { payload: medium, qos: 1 as const, id: 65535 },
      { payload: large, qos: 1 as const, id: 7 },
      { payload: small, qos: 1 as const, id: 1 },
    ];
    const buf = Buffer.alloc(sent.reduce((n, m) => n + publishSize(topic, m.payload.length, m.qos), 0));
    let offset = 0;
    for (const m of sent) offset = writePublish(buf, offset, topic, m.payload, m.qos, m.id);
    expect(offset).toBe(buf.length);
    const packets = parseAll(buf);
    expect(packets.map((p) => (p.cmd === 'publish' ? { topic: p.topic, payload: p.payload.toString(), qos: p.qos, id: p.messageId ?? 0 } : p.cmd))).toEqual(
      sent.map((m) => ({ topic: topic.toString(), payload: m.payload, qos: m.qos, id: m.id })),
    );
  });
});
