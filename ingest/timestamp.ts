import { z } from 'zod';
import type { RejectReason } from '../core/events.js';

/**
 * A reading's or state's `ts` (SPEC "Reading": epoch milliseconds or an ISO-8601 string), judged before anything
 * formats it. A JavaScript Date holds ±8.64e15 ms (ECMA-262 §21.4.1.1, about ±275,760 years): beyond that
 * `new Date(ts).toISOString()` throws, and a device sending nanoseconds or 1e308 lost its whole batch and was
 * disconnected without a PUBACK, so it resent the batch on every reconnect, forever. Every number and every
 * parseable date is a time, however far away, and is rejected for being too far in the future or past; only what
 * is not a time at all (a word, February 30) is a schema error.
 */
export const TimestampShape = z.union(
  [
    // JSON has no NaN or Infinity; a number too big for a double (1e400) parses as Infinity and is refused here.
    z.number(),
    z.iso.datetime({ offset: true }),
    z.iso.date(),
    // ISO 8601 expanded years (±YYYYYY-MM-DD…), which Date.parse reads as far as a Date reaches.
    z.string().regex(/^[+-]\d{6}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/),
  ],
  { error: 'not a time: send epoch milliseconds or an ISO-8601 date-time with its offset' },
);
export type RawTimestamp = z.infer<typeof TimestampShape>;

/** The largest |epoch ms| a Date can hold. */
export const MAX_DATE_MS = 8.64e15;

export interface TimestampWindow {
  now: number;
  maxFutureMs: number;
  maxPastMs: number;
}

export type TimestampVerdict =
  { ok: true; ts: number } | { ok: false; reason: Extract<RejectReason, 'schema' | 'future_timestamp' | 'stale_timestamp'>; detail: string };

/** Epoch ms of a timestamp, ±Infinity for an expanded year beyond a Date, undefined for what is not a time. */
function toEpochMs(raw: RawTimestamp): number | undefined {
  if (typeof raw === 'number') return Math.round(raw);
  const ms = Date.parse(raw);
  if (Number.isFinite(ms)) return ms;
  if (/^[+-]\d{6}-/.test(raw)) return raw.startsWith('-') ? -Infinity : Infinity;
  return undefined;
}

/** How a rejected timestamp is shown: as ISO when a Date can hold it, else as the device sent it. */
export function describeTimestamp(raw: RawTimestamp, ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : String(raw).slice(0, 40);
}

export function checkTimestamp(raw: RawTimestamp | undefined, w: TimestampWindow): TimestampVerdict {
  if (raw === undefined) return { ok: true, ts: w.now };
  const ts = toEpochMs(raw);
  if (ts === undefined) return { ok: false, reason: 'schema', detail: `ts "${String(raw).slice(0, 40)}" is not a time` };
  if (ts > w.now + w.maxFutureMs)
    return {
      ok: false,
      reason: 'future_timestamp',
      detail: `ts ${describeTimestamp(raw, ts)} is in the future: check the device clock (nanoseconds or microseconds sent as ms?)`,
    };
  if (ts < w.now - w.maxPastMs)
    return {
      ok: false,
      reason: 'stale_timestamp',
      detail: `ts ${describeTimestamp(raw, ts)} is older than MAX_PAST_AGE: check the device clock (seconds sent as ms?)`,
    };
  return { ok: true, ts };
}
