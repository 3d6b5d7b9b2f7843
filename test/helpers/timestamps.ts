import fc from 'fast-check';

/** Timestamps as a device might send them, over the whole number line, as the JSON text it would write. */
export const anyTimestampText = fc.oneof(
  fc.double().map((v) => JSON.stringify(v)), // NaN and ±Infinity become null
  fc.tuple(fc.boolean(), fc.integer({ min: -400, max: 400 })).map(([negative, e]) => `${negative ? '-' : ''}1e${e}`),
  fc.integer({ min: -1e16, max: 1e16 }).map(String),
  fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => JSON.stringify(new Date(ms).toISOString())), // years up to ±275760
  fc.constantFrom('"NaN"', '"Infinity"', '"-1"', '"now"', '"2024-02-30T00:00:00Z"', '"+275760-09-13T00:00:00.001Z"', '"-271821-04-19T23:59:59Z"', '""'),
);

/** What SPEC says of a timestamp, worked out here without the code under test. */
export function expectedVerdict(
  tsText: string,
  now: number,
  maxFutureMs: number,
  maxPastMs: number,
): 'accepted' | 'future_timestamp' | 'stale_timestamp' | 'schema' {
  const v: unknown = JSON.parse(tsText);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'schema';
    const ms = Math.round(v);
    return ms > now + maxFutureMs ? 'future_timestamp' : ms < now - maxPastMs ? 'stale_timestamp' : 'accepted';
  }
  if (typeof v !== 'string') return 'schema';
  const expanded = /^([+-])(\d{6})-/.exec(v);
  const ms = Date.parse(v);
  if (!/^([+-]\d{6}|\d{4})-\d{2}-\d{2}(T.*(Z|[+-]\d{2}:\d{2}))?$/.test(v) || (Number.isNaN(ms) && !expanded)) return 'schema';
  if (!/^[+-]/.test(v) && new Date(ms).toISOString().slice(0, 10) !== v.slice(0, 10)) return 'schema'; // February 30 rolls over in Date.parse
  const at = Number.isNaN(ms) ? (expanded![1] === '-' ? -Infinity : Infinity) : ms;
  return at > now + maxFutureMs ? 'future_timestamp' : at < now - maxPastMs ? 'stale_timestamp' : 'accepted';
}
