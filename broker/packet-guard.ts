import type { Client } from 'aedes';
import { createFrameWatcher, type FrameVerdict, type PacketSizeLimits } from './packet-size.js';

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
    super(
      'aedes no longer exposes its MQTT parser (client._parser.parse), so packet sizes cannot be checked before buffering: keep aedes at the version in package-lock.json or adapt broker/packet-guard.ts',
    );
  }
}

/** What every guarded connection shares (made once per broker): the limits, the client's stage, what to do on a refusal. */
export interface PacketGuardHooks {
  limits: PacketSizeLimits;
  stage(client: Client): 'device' | 'service' | undefined;
  onRefused(client: Client, refusal: Refusal): void;
}

export function guardPacketSizes(client: Client, hooks: PacketGuardHooks): void {
  const target = client as unknown as ParsingClient;
  const parser = target._parser;
  if (!parser || typeof parser.parse !== 'function') {
    target.conn.destroy();
    throw new PacketGuardUnavailable();
  }
  // Held as long as the connection lives: no named closures (tsx gives each a name property, a few hundred bytes).
  const watcher = createFrameWatcher(hooks.limits, (packetIndex) => hooks.stage(client) ?? (packetIndex === 0 ? 'before_connect' : 'authenticating'));
  const parse = parser.parse.bind(parser);
  let refused = false;
  parser.parse = (buf: Buffer) => {
    if (refused) return 0;
    const verdict = watcher.feed(buf);
    if (verdict.ok) return parse(buf);
    refused = true;
    target.conn.destroy();
    hooks.onRefused(client, verdict);
    return 0;
  };
}
