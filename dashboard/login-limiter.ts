/**
 * Counts failed logins per key (client address) in a fixed window. Only failures count, so a user who types the
 * password right is never slowed down, while guessing is capped at `max` tries per window.
 */
export interface LoginLimiter {
  /** Milliseconds until the key may try again; 0 when it may try now. */
  retryAfterMs(key: string): number;
  failed(key: string): void;
  succeeded(key: string): void;
}

export function createLoginLimiter(options: { max: number; timeWindowMs: number; now?: () => number }): LoginLimiter {
  const now = options.now ?? Date.now;
  const failures = new Map<string, { count: number; windowStart: number }>();

  function current(key: string) {
    const entry = failures.get(key);
    if (entry && now() - entry.windowStart >= options.timeWindowMs) {
      failures.delete(key);
      return undefined;
    }
    return entry;
  }

  return {
    retryAfterMs(key) {
      const entry = current(key);
      if (!entry || entry.count < options.max) return 0;
      return entry.windowStart + options.timeWindowMs - now();
    },
    failed(key) {
      const entry = current(key);
      if (entry) entry.count += 1;
      else failures.set(key, { count: 1, windowStart: now() });
      if (failures.size > 10_000) {
        for (const k of failures.keys()) if (!current(k)) failures.delete(k);
      }
    },
    succeeded: (key) => void failures.delete(key),
  };
}
