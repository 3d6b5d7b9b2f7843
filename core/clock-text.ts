/**
 * Times told to people, in a site's time zone and saying which zone ("14:30 GMT+8"), for alert messages made
 * by the server and for the dashboard alike. Sites get an IANA `timezone` (SPEC "Identity", default UTC); until
 * a site has one, `siteTimeZone` answers UTC, as the SPEC's default says.
 */
export function siteTimeZone(site: object | undefined): string {
  const zone = site && 'timezone' in site ? (site as { timezone?: unknown }).timezone : undefined;
  return typeof zone === 'string' && zone.length > 0 ? zone : 'UTC';
}

/**
 * `14:30 UTC` when `ts` falls on the same local day as `now` in that zone, else with the date (`2 Jun, 14:30 UTC`,
 * `6月2日 14:30 GMT+8`). `lang` is a BCP 47 tag (`en`, `zh-CN`).
 */
export function clockTime(ts: number, opts: { timeZone?: string; lang?: string; now?: number } = {}): string {
  const timeZone = opts.timeZone ?? 'UTC';
  const lang = opts.lang ?? 'en';
  const day = (t: number) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(t);
  const sameDay = day(ts) === day(opts.now ?? ts);
  const parts = new Intl.DateTimeFormat(lang, {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
    ...(sameDay ? {} : { month: 'short', day: 'numeric' }),
  }).formatToParts(ts);
  const zoneName = parts.find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
  const rest = parts
    .filter((p) => p.type !== 'timeZoneName')
    .map((p) => p.value)
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
  return `${rest} ${zoneName}`;
}
