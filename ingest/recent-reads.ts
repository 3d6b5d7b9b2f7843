/**
 * Which tag reads ingest took recently, to recognise a redelivery (the same reader, tag and ts: a QoS 1 message
 * sent again after a lost PUBACK, a reader's buffer sent twice). Bounded: the oldest keys go first, so memory
 * stays flat however many animals pass; a redelivery older than the last `capacity` reads is still stored once
 * (the store's key), only counted and shown again. 100,000 keys cover a 45,000-head park's twice-daily gate
 * bursts with room to spare, at about 10 MB.
 */
export interface RecentReads {
  /** True when the key was already seen (a duplicate); otherwise remembers it. */
  seen(key: string): boolean;
  /** Forgets keys whose write failed, so the device's resend is taken as new. */
  forget(keys: readonly string[]): void;
  size(): number;
}

export function readKey(device: string, tag: string, ts: number): string {
  return `${device}\u0000${tag}\u0000${ts}`;
}

export function createRecentReads(capacity = 100_000): RecentReads {
  const keys = new Set<string>();
  return {
    seen(key) {
      if (keys.has(key)) return true;
      keys.add(key);
      // A Set iterates in insertion order: the first key is the oldest.
      if (keys.size > capacity) keys.delete(keys.values().next().value as string);
      return false;
    },
    forget(list) {
      for (const k of list) keys.delete(k);
    },
    size: () => keys.size,
  };
}
