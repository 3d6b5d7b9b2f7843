import { createRawClient } from '../load/raw-mqtt.js';
import { createRng, readingPayload } from '../load/payload.js';
import type { LoadDeviceSpec } from '../load/protocol.js';
import { newHistogram, record, type Histogram } from '../stats.js';
import type { StoreProbe } from './store.js';

/**
 * Publish -> stored latency: a probe device publishes a reading every `everyMs`, stamped with its send time;
 * the store is polled every `pollMs` for the probe's newest stamp. A reading counts as stored at the first poll
 * that sees it (the time half-way through that query), so the resolution is about pollMs / 2 plus the query.
 * Both the store and the outbox drainer keep a device's readings in order, so "newest stamp >= t" means every
 * probe reading up to t is stored.
 */
export interface StoredLatencyResult {
  latency: Histogram;
  sent: number;
  acked: number;
  /** Probe readings never seen in the store within the wait after the run. */
  missing: number;
}

export async function measureStoredLatency(o: {
  host: string;
  port: number;
  device: LoadDeviceSpec;
  qos: 0 | 1;
  everyMs: number;
  durationMs: number;
  pollMs: number;
  store: StoreProbe;
  metric: string;
  /** Called with each latency as it is measured (the soak keeps per-interval figures). */
  onSample?: (ms: number) => void;
}): Promise<StoredLatencyResult> {
  let acked = 0;
  const client = createRawClient(
    { host: o.host, port: o.port, clientId: o.device.id, username: o.device.id, password: o.device.password, keepaliveSec: 60 },
    { onPuback: () => void acked++ },
  );
  await client.connect();
  const rng = createRng(3);
  const latency = newHistogram();
  const pending: number[] = [];
  let sent = 0;
  let lastTs = 0;
  let sending = true;
  const sender = setInterval(() => {
    if (!sending) return;
    const ts = (lastTs = Math.max(Date.now(), lastTs + 1));
    client.publish(o.device.topic, readingPayload(ts, o.device.metrics, rng), o.qos);
    pending.push(ts);
    sent++;
  }, o.everyMs);

  const poll = async () => {
    const before = Date.now();
    const newest = await o.store.lastTs(o.device.id, o.metric);
    const at = (before + Date.now()) / 2;
    if (newest === undefined) return;
    while (pending.length > 0 && pending[0] <= newest) {
      const ms = Math.max(0, at - pending.shift()!);
      record(latency, ms);
      o.onSample?.(ms);
    }
  };
  const stopAt = Date.now() + o.durationMs;
  while (Date.now() < stopAt) {
    await poll().catch(() => undefined); // the store may not exist yet in the first milliseconds
    await new Promise((r) => setTimeout(r, o.pollMs));
  }
  sending = false;
  clearInterval(sender);
  const giveUp = Date.now() + 30_000;
  while (pending.length > 0 && Date.now() < giveUp) {
    await poll().catch(() => undefined);
    await new Promise((r) => setTimeout(r, o.pollMs));
  }
  await client.end();
  return { latency, sent, acked, missing: pending.length };
}
