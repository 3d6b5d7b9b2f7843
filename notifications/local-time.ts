/**
 * A time as people at the site read it: `2026-11-30 14:03:05 (Asia/Shanghai)`, in the site's IANA zone (SPEC
 * "Identity": times shown to users are in the site's zone and say which). Intl carries the zone database.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

export function formatSiteTime(ts: number, timeZone: string, withSeconds = true): string {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ts).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${withSeconds ? `:${p.second}` : ''} (${timeZone})`;
}
