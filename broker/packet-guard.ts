import type { Client } from 'aedes';
import { createFrameWatcher, type FrameVerdict, type PacketSizeLimits, type PacketStage } from './packet-size.js';

/**
 * Puts the packet-size decision (packet-size.ts) in front of the MQTT parser of one aedes client: every chunk
 * read from the socket is judged before the parser sees (and buffers) it. aedes creates its mqtt-packet parser
 * itself and offers no option for a maximum packet size, so the parser's `parse` is wrapped; if a future aedes
 * no longer has it, connections are refused (fail closed) with an error that says what to check.
 */
type Refusal = Extract<FrameVerdict, { ok: false }>;

interface ParsingClient {
  _parser?: { parse(buf: Buffer): number };
  conn: { destroy(): void };
}

export class PacketGuardUnavailable extends Error {
  readonly code = 'PACKET_GUARD_UNAVAILABLE';
  constructor() {
    super('aedes no longer exposes its MQTT parser (client._parser.parse), so packet sizes cannot be checked before buffering: keep aedes at the version in package-lock.json or adapt broker/packet-guard.ts');
  }
}

export function guardPacketSizes(client: Client, o: { limits: PacketSizeLimits; stage: () => 'device' | 'service' | undefined; onRefused(refusal: Refusal): void }): void {
  const target = client as unknown as ParsingClient;
  const parser = target._parser;
  if (!parser || typeof parser.parse !== 'function') {
    target.conn.destroy();
    throw new PacketGuardUnavailable();
  }
  const stageOf = (packetIndex: number): PacketStage => o.stage() ?? (packetIndex === 0 ? 'before_connect' : 'authenticating');
  const watcher = createFrameWatcher(o.limits, stageOf);
  const parse = parser.parse.bind(parser);
  let refused = false;
  parser.parse = (buf: Buffer) => {
    if (refused) return 0;
    const verdict = watcher.feed(buf);
    if (verdict.ok) return parse(buf);
    refused = true;
    target.conn.destroy();
    o.onRefused(verdict);
    return 0;
  };
}
