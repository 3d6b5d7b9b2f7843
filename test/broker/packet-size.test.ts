import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createFrameWatcher,
  MAX_CONNECT_BYTES,
  MQTT_MAX_REMAINING_LENGTH,
  packetSizeLimits,
  PUBLISH_OVERHEAD_BYTES,
  type PacketStage,
} from '../../broker/packet-size.js';
import { fixedHeader } from '../helpers/raw-mqtt.js';

/** The packet-size decision on the raw byte stream, however the stream is cut into chunks. */
const limits = packetSizeLimits(64 * 1024, 16 * 1024 * 1024);
const deviceAfterFirst = (i: number): PacketStage => (i === 0 ? 'before_connect' : 'device');

function packetBytes(type: number, bodyLength: number): Buffer {
  return Buffer.concat([fixedHeader(type << 4, bodyLength), Buffer.alloc(bodyLength, 0x61)]);
}

/** Cuts `bytes` at the given fractions, so a header can straddle two chunks. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to > from) out.push(bytes.subarray(from, to));
    from = Math.max(from, to);
  }
  return out;
}

describe('packet size limits', () => {
  it('sizes a device packet from MAX_PAYLOAD_BYTES plus topic and header, and a CONNECT small', () => {
    expect(limits).toEqual({ connectBytes: MAX_CONNECT_BYTES, deviceBytes: 64 * 1024 + PUBLISH_OVERHEAD_BYTES, serviceBytes: 16 * 1024 * 1024 });
  });

  it('lets through any stream of packets within their limits, cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_CONNECT_BYTES }),
        fc.array(fc.tuple(fc.integer({ min: 2, max: 14 }), fc.integer({ min: 0, max: limits.deviceBytes })), { maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        (connectLength, rest, cuts) => {
          const stream = Buffer.concat([packetBytes(1, connectLength), ...rest.map(([type, n]) => packetBytes(type, n))]);
          const watcher = createFrameWatcher(limits, deviceAfterFirst);
          return chunked(stream, cuts).every((c) => watcher.feed(c).ok);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a packet announced over its limit as soon as its length is complete, before any of its body', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<PacketStage>('before_connect', 'device', 'service'),
        fc.integer({ min: 1, max: MQTT_MAX_REMAINING_LENGTH }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
        (stage, over, cuts) => {
          const limit = stage === 'before_connect' ? limits.connectBytes : stage === 'device' ? limits.deviceBytes : limits.serviceBytes;
          const announced = Math.min(limit + over, MQTT_MAX_REMAINING_LENGTH);
          if (announced <= limit) return true;
          const header = fixedHeader(0x30, announced);
          const watcher = createFrameWatcher(limits, () => stage);
          const verdicts = chunked(header, cuts).map((c) => watcher.feed(c));
          const last = verdicts[verdicts.length - 1];
          return verdicts.slice(0, -1).every((v) => v.ok) && !last.ok && last.announcedBytes === announced && last.limitBytes === limit && last.stage === stage;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('judges each packet by the stage when its length arrives: a login raises the limit for the packets after it', () => {
    let stage: PacketStage = 'before_connect';
    const watcher = createFrameWatcher(limits, (i) => (i === 0 ? 'before_connect' : stage));
    expect(watcher.feed(packetBytes(1, 100)).ok).toBe(true);
    stage = 'authenticating';
    expect(watcher.feed(fixedHeader(0x30, limits.deviceBytes + 1))).toMatchObject({ ok: false, stage: 'authenticating' });
    const logged = createFrameWatcher(limits, (i) => (i === 0 ? 'before_connect' : 'service'));
    expect(logged.feed(packetBytes(1, 100)).ok).toBe(true);
    expect(logged.feed(fixedHeader(0x30, limits.deviceBytes + 1)).ok).toBe(true);
  });

  it('refuses a CONNECT announced larger than a CONNECT needs, and a fifth length byte', () => {
    expect(createFrameWatcher(limits, deviceAfterFirst).feed(fixedHeader(0x10, 200_000_000))).toMatchObject({
      ok: false,
      stage: 'before_connect',
      announcedBytes: 200_000_000,
    });
    expect(createFrameWatcher(limits, deviceAfterFirst).feed(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toMatchObject({
      ok: false,
      announcedBytes: MQTT_MAX_REMAINING_LENGTH + 1,
    });
  });
});
