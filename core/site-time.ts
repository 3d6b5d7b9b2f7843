/**
 * Site-local time (SPEC "Identity": wall-clock things follow the site's zone, never the server's): the local
 * clock of an instant, the start of its local day, history bucket boundaries, and a zone label for people.
 *
 * Why Intl and no library: Node 20 (full ICU) and every browser carry the IANA database behind
 * Intl.DateTimeFormat, so the server and the page answer from the same data with nothing to install. Everything
 * here derives from one primitive, the zone's UTC offset at an instant; what a library would add on top (gaps and
 * repeated hours at DST changes) is handled explicitly below and tested on Europe/Berlin across both changes.
 * luxon or the Temporal polyfill would cost a dependency (and, in the page, bundle size) for the same answers,
 * and the rules engine asks for the local time on every evaluation of a scheduled rule, where a cached offset
 * is cheaper than building a zoned date object. Pure: no clock, no I/O.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The canonical IANA name (`asia/shanghai` -> `Asia/Shanghai`), or undefined when the name is not a zone. */
export function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** UTC offset of `zone` at instant `t`, in ms (Asia/Shanghai: +8 h). */
export function offsetMs(zone: string, t: number): number {
  if (zone === 'UTC') return 0;
  const secondFloor = Math.floor(t / 1000) * 1000;
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(secondFloor)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - secondFloor;
}

/** The wall-clock reading at `t` as if it were UTC ("local epoch" ms): offsets applied, so day arithmetic works. */
export function wallMs(zone: string, t: number): number {
  return t + offsetMs(zone, t);
}

export interface LocalClock {
  /** 0 = Sunday ... 6 = Saturday, the local weekday. */
  weekday: number;
  /** Minutes since local midnight, 0 ... 1439. */
  minuteOfDay: number;
}

// Offsets only change on whole minutes, so one computation per zone and minute serves every evaluation in it.
const clockCache = new Map<string, { minute: number; clock: LocalClock }>();

/** Local weekday and time of day at `t` (rule schedules). */
export function localClock(zone: string, t: number): LocalClock {
  const minute = Math.floor(t / MINUTE_MS);
  const cached = clockCache.get(zone);
  if (cached && cached.minute === minute) return cached.clock;
  const wall = wallMs(zone, minute * MINUTE_MS);
  const days = Math.floor(wall / DAY_MS);
  const clock = { weekday: (((days + 4) % 7) + 7) % 7, minuteOfDay: Math.floor((wall - days * DAY_MS) / MINUTE_MS) }; // 1970-01-01 was a Thursday
  if (clockCache.size > 1000) clockCache.clear();
  clockCache.set(zone, { minute, clock });
  return clock;
}

/**
 * The first instant whose wall clock reads `wall` (local epoch ms). At a repeated hour (clocks go back) that is
 * the earlier of the two; inside a gap (clocks go forward over it) it is the instant of the change, where the
 * local clock first reads later than `wall`.
 */
export function instantOfWall(zone: string, wall: number): number {
  const before = offsetMs(zone, wall - DAY_MS);
  const after = offsetMs(zone, wall + DAY_MS);
  const fits = [wall - before, wall - after].filter((t) => wallMs(zone, t) === wall).sort((a, b) => a - b);
  if (fits.length > 0) return fits[0];
  // A gap: the change lies in [wall - after, wall - before]; find the first instant on the new offset.
  let lo = wall - Math.max(before, after);
  let hi = wall - Math.min(before, after);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetMs(zone, mid) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The instant the local day of `t` began (local midnight; 23 h or 25 h before the next one on DST days). */
export function startOfLocalDay(zone: string, t: number): number {
  const wall = wallMs(zone, t);
  return instantOfWall(zone, wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS));
}

/** The instant the next local day begins after `t`'s. */
export function startOfNextLocalDay(zone: string, t: number): number {
  const wall = wallMs(zone, t);
  return instantOfWall(zone, wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS) + DAY_MS);
}

/** History buckets of one hour or longer follow the site's zone; shorter ones are cut in UTC. */
export const LOCAL_BUCKETS_FROM_MS = HOUR_MS;

/**
 * Start of the history bucket of width `everyMs` that holds `t`, in `zone`. The same rule as InfluxDB's
 * `GROUP BY time(every) tz(zone)` (1.x, IteratorOptions.Window), so the embedded store and InfluxDB cut the same
 * buckets: buckets are counted in local wall-clock time from 1970-01-01 00:00 local (a `1d` bucket starts at
 * local midnight, a `3h` one at 00:00, 03:00 ... local), and when the offset at that start differs from the
 * offset at `t` by less than the width, the start moves by the difference, so a day bucket spans 23 h or 25 h
 * across a DST change and an hour bucket stays one real hour (the repeated hour gives two buckets).
 */
export function bucketStart(zone: string, t: number, everyMs: number): number {
  if (everyMs < LOCAL_BUCKETS_FROM_MS || zone === 'UTC') return t - (((t % everyMs) + everyMs) % everyMs);
  const zoneAtT = offsetMs(zone, t);
  const start = t - ((((t + zoneAtT) % everyMs) + everyMs) % everyMs);
  const shift = zoneAtT - offsetMs(zone, start);
  return shift !== 0 && Math.abs(shift) < everyMs ? start + shift : start;
}

/** A stretch of time in which `zone` keeps one offset: [from, to). */
export interface OffsetSegment {
  from: number;
  to: number;
  offsetMs: number;
}

/**
 * The offsets `zone` has over [from, to), as consecutive segments (one for a zone without DST such as
 * Asia/Shanghai; one more per change otherwise). Changes are never less than a day apart, so the range is
 * walked a day at a time and each change pinned to the second.
 */
export function offsetSegments(zone: string, from: number, to: number): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let start = from;
  let offset = offsetMs(zone, from);
  for (let t = from; t < to;) {
    const next = Math.min(t + DAY_MS, to);
    const o = offsetMs(zone, next);
    if (o !== offset && next <= to) {
      let lo = t;
      let hi = next;
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (offsetMs(zone, mid) === offset) lo = mid;
        else hi = mid;
      }
      if (hi < to) {
        segments.push({ from: start, to: hi, offsetMs: offset });
        start = hi;
        offset = offsetMs(zone, hi);
      }
    }
    t = next;
  }
  segments.push({ from: start, to, offsetMs: offset });
  return segments;
}

/** "UTC+8", "UTC+5:30", "UTC-3", "UTC": the offset at `t`, for people (the same text in every language). */
export function zoneLabel(zone: string, t: number): string {
  const minutes = Math.round(offsetMs(zone, t) / MINUTE_MS);
  if (minutes === 0) return 'UTC';
  const sign = minutes > 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  const m = abs % 60;
  return `UTC${sign}${Math.floor(abs / 60)}${m ? `:${String(m).padStart(2, '0')}` : ''}`;
}
