import type { Lang } from './i18n.js';

/**
 * Times as people at the site read them: in the site's time zone (IANA name), which the caller shows next to
 * them. Formatters are cached per zone, language and style (a table of hundreds of rows formats quickly).
 */
type Style = 'datetime' | 'time' | 'date';

const STYLES: Record<Style, Intl.DateTimeFormatOptions> = {
  datetime: { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  time: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  date: { year: 'numeric', month: '2-digit', day: '2-digit' },
};
const cache = new Map<string, Intl.DateTimeFormat>();

export function fmtZoned(ts: number | undefined, timeZone: string, lang: Lang, style: Style = 'datetime'): string {
  if (ts === undefined || !Number.isFinite(ts)) return '—';
  const key = `${timeZone}|${lang}|${style}`;
  let format = cache.get(key);
  if (!format) cache.set(key, (format = new Intl.DateTimeFormat(lang, { ...STYLES[style], timeZone })));
  return format.format(ts);
}

/** A site's time zone as the API gives it (`timeZone`; UTC for a site the page does not know). */
export function zoneOf(site: { timeZone?: string } | undefined): string {
  return site?.timeZone ?? 'UTC';
}
