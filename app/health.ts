import type { Store } from '../store/store.js';
import type { BufferedStore } from '../store/buffered-store.js';

export interface Health {
  status: 'ok' | 'degraded' | 'down';
  checks: Record<string, unknown>;
}

/** InfluxDB trouble with the outbox still accepting is "degraded", not "down": no reading is being lost. */
export async function healthOf(parts: { store: Store; buffered?: BufferedStore; brokerClients: number }): Promise<Health> {
  const checks: Record<string, unknown> = { store: parts.store.kind, mqttClients: parts.brokerClients };
  if (!parts.buffered) return { status: 'ok', checks };
  const s = parts.buffered.stats();
  checks.outbox = { depth: s.outboxDepth, byKind: s.outboxDepthByKind, oldestAgeMs: s.outboxOldestAgeMs, lastError: s.lastError };
  const degraded = s.outboxOldestAgeMs > 30_000 || s.lastError !== undefined;
  return { status: degraded ? 'degraded' : 'ok', checks };
}
