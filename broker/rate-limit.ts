/**
 * Token bucket per client: a device may publish `ratePerSec` messages per second with bursts of `burst`.
 * `take` returns how long to hold the next message (0 = now). Holding rather than dropping slows a flooding
 * client down (its PUBACKs wait) without losing its readings or starving anyone else.
 */
export function createRateLimiter(opts: { ratePerSec: number; burst: number; now?: () => number }) {
  const now = opts.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key: string): number {
      const t = now();
      const b = buckets.get(key) ?? { tokens: opts.burst, at: t };
      b.tokens = Math.min(opts.burst, b.tokens + ((t - b.at) / 1000) * opts.ratePerSec);
      b.at = t;
      b.tokens -= 1;
      buckets.set(key, b);
      return b.tokens >= 0 ? 0 : Math.ceil((-b.tokens / opts.ratePerSec) * 1000);
    },
    forget(key: string) {
      buckets.delete(key);
    },
  };
}
