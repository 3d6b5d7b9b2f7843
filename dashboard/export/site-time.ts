import { offsetMs } from '../../core/site-time.js';

/** "+08:00" from an offset in ms. */
function offsetText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * Formats instants as ISO 8601 local time with the zone's offset (2024-11-22T18:00:00+08:00; milliseconds only
 * when there are some), the offset from core/site-time.ts. For a million rows of an export, it is looked up once
 * per quarter hour: since 1970 every zone changes its offset only on a quarter hour of UTC.
 */
export function zonedIsoFormatter(timeZone: string): (ts: number) => string {
  let block = NaN;
  let offset = 0;
  let suffix = '+00:00';
  return (ts) => {
    const b = Math.floor(ts / 900_000);
    if (b !== block) {
      block = b;
      offset = offsetMs(timeZone, ts);
      suffix = offsetText(offset);
    }
    const local = new Date(ts + offset).toISOString();
    const ms = local.slice(19, 23);
    return `${local.slice(0, 19)}${ms === '.000' ? '' : ms}${suffix}`;
  };
}
