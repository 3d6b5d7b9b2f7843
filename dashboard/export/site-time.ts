import type { SiteT } from '../../core/config/schema.js';

/**
 * A site's time zone (SPEC "Identity": an IANA name, default UTC), read in one place so the farm file's
 * `timezone` field is the only source.
 */
export function siteTimeZone(site: Pick<SiteT, 'id'> | undefined): string {
  return (site as { timezone?: string } | undefined)?.timezone ?? 'UTC';
}

/** "+08:00" from minutes east of UTC. */
function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Minutes east of UTC in `timeZone` at `ts`, from Intl ("GMT+08:00", "GMT-03:30", "GMT"). */
export function utcOffsetMinutes(timeZone: string, ts: number, format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })): number {
  const name = format.formatToParts(ts).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{1,2})(?::?(\d{2}))?/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

/**
 * Formats instants as ISO 8601 local time with the zone's offset (2024-11-22T18:00:00+08:00; milliseconds only
 * when there are some). For a million rows of an export, the offset is looked up once per quarter hour:
 * since 1970 every zone changes its offset only on a quarter hour of UTC.
 */
export function zonedIsoFormatter(timeZone: string): (ts: number) => string {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  let block = NaN;
  let offset = 0;
  let suffix = '+00:00';
  return (ts) => {
    const b = Math.floor(ts / 900_000);
    if (b !== block) {
      block = b;
      offset = utcOffsetMinutes(timeZone, ts, format);
      suffix = offsetText(offset);
    }
    const local = new Date(ts + offset * 60_000).toISOString();
    const ms = local.slice(19, 23);
    return `${local.slice(0, 19)}${ms === '.000' ? '' : ms}${suffix}`;
  };
}
