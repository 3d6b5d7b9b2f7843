/**
 * Whether what the page shows is current. A value is old once it is older than twice its device's report interval
 * (one missed report is a hiccup, two are a silence); old values stay on screen, greyed, with their age. A device is
 * `online` when connected and (a sensor) reporting, `silent` when connected but its readings stopped, `offline`
 * when the broker says so (its Last Will). Pure: the clock comes in.
 */
export type Freshness = 'live' | 'old' | 'none';
export type Liveness = 'online' | 'silent' | 'offline' | 'unknown';

/**
 * When the device's interval is not known yet: 5 min, so a value is old after 10 min, which is when the demo
 * farm's sensor-stale rule calls a sensor offline.
 */
export const DEFAULT_REPORT_EVERY_MS = 5 * 60_000;

export function oldAfterMs(reportEveryMs: number | undefined): number {
  return 2 * (reportEveryMs ?? DEFAULT_REPORT_EVERY_MS);
}

export function freshness(ts: number | undefined, reportEveryMs: number | undefined, now: number): Freshness {
  if (ts === undefined) return 'none';
  return now - ts > oldAfterMs(reportEveryMs) ? 'old' : 'live';
}

export interface PresenceFacts {
  role: 'sensor' | 'actuator' | 'reader';
  status: 'online' | 'offline' | 'unknown';
  lastSeen?: number;
  reportEveryMs?: number;
}

export function liveness(d: PresenceFacts, now: number): Liveness {
  if (d.status === 'offline') return 'offline';
  // Actuators and readers speak when something happens: connected is all there is to know.
  if (d.role !== 'sensor') return d.status;
  if (d.lastSeen !== undefined && now - d.lastSeen > oldAfterMs(d.reportEveryMs)) return 'silent';
  return d.status === 'unknown' && d.lastSeen !== undefined ? 'online' : d.status;
}

const relative = new Map<string, Intl.RelativeTimeFormat>();

/** "12 min ago", "12分钟前": the age of a value in the reader's language. */
export function fmtAge(ageMs: number, lang: string): string {
  let format = relative.get(lang);
  if (!format) relative.set(lang, (format = new Intl.RelativeTimeFormat(lang, { numeric: 'always', style: 'short' })));
  const s = Math.max(0, Math.round(ageMs / 1000));
  if (s < 60) return format.format(-s, 'second');
  if (s < 3600) return format.format(-Math.floor(s / 60), 'minute');
  if (s < 86_400 * 2) return format.format(-Math.floor(s / 3600), 'hour');
  return format.format(-Math.floor(s / 86_400), 'day');
}
