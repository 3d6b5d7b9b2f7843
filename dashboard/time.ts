import { parseDurationMs } from '../core/duration.js';

/**
 * Time arguments of the API: `from` / `to` as epoch milliseconds, ISO-8601, `now` or relative to now
 * (`-24h`, `-30m`, `-7d`), and `every` as a duration (`5m`). Pure: the caller passes `now`.
 */
export function parseTimeArg(input: string | number, now: number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  const text = input.trim();
  if (text === 'now') return now;
  if (/^\d{9,}$/.test(text)) return Number(text);
  const relative = /^-\s*(\d+(?:\.\d+)?\s*(?:ms|s|m|h|d))$/.exec(text);
  if (relative) return now - parseDurationMs(relative[1].replace(/\s+/g, ''));
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export const TIME_ARG_HELP = 'epoch ms, ISO-8601 (2024-11-22T10:00:00Z), "now" or relative like -24h, -30m, -7d';

/** Steps a chart can be aggregated by; auto-picked so a range gives about `targetBuckets` points. */
const NICE_STEPS_MS = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400].map((s) => s * 1000);

export function autoEveryMs(rangeMs: number, targetBuckets = 200): number {
  const ideal = rangeMs / targetBuckets;
  return NICE_STEPS_MS.find((step) => step >= ideal) ?? NICE_STEPS_MS[NICE_STEPS_MS.length - 1];
}

export function bucketCount(from: number, to: number, everyMs: number): number {
  return Math.ceil((to - from) / everyMs);
}
