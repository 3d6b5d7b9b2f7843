import { describe, expect, it } from 'vitest';
import {
  bucketStart,
  canonicalTimeZone,
  DAY_MS,
  HOUR_MS,
  instantOfWall,
  localClock,
  offsetMs,
  offsetSegments,
  startOfLocalDay,
  startOfNextLocalDay,
  zoneLabel,
} from '../../core/site-time.js';

const utc = (iso: string) => Date.parse(iso);
const BERLIN = 'Europe/Berlin';
// 2026: clocks go forward on Sunday 29 March at 01:00 UTC (02:00 CET -> 03:00 CEST) and back on Sunday
// 25 October at 01:00 UTC (03:00 CEST -> 02:00 CET).
const SPRING = utc('2026-03-29T01:00:00Z');
const FALL = utc('2026-10-25T01:00:00Z');

describe('site-local time', () => {
  it('knows zone names, case-insensitively, and refuses others', () => {
    expect(canonicalTimeZone('asia/shanghai')).toBe('Asia/Shanghai');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('Mars/Olympus')).toBeUndefined();
  });

  it('tells the offset on either side of both DST changes', () => {
    expect(offsetMs('Asia/Shanghai', SPRING)).toBe(8 * HOUR_MS);
    expect(offsetMs(BERLIN, SPRING - 1000)).toBe(HOUR_MS);
    expect(offsetMs(BERLIN, SPRING)).toBe(2 * HOUR_MS);
    expect(offsetMs(BERLIN, FALL - 1000)).toBe(2 * HOUR_MS);
    expect(offsetMs(BERLIN, FALL)).toBe(HOUR_MS);
    expect(zoneLabel('Asia/Shanghai', SPRING)).toBe('UTC+8');
    expect(zoneLabel(BERLIN, FALL)).toBe('UTC+1');
    expect(zoneLabel('Asia/Kolkata', SPRING)).toBe('UTC+5:30');
    expect(zoneLabel('UTC', SPRING)).toBe('UTC');
  });

  it('reads the local clock of a farm in Zhejiang from a server in UTC: 00:30 UTC is 08:30 Beijing time', () => {
    expect(localClock('Asia/Shanghai', utc('2026-11-30T00:30:00Z'))).toEqual({ weekday: 1, minuteOfDay: 8 * 60 + 30 });
    expect(localClock('Asia/Shanghai', utc('2026-11-29T16:00:00Z'))).toEqual({ weekday: 1, minuteOfDay: 0 });
    expect(localClock(BERLIN, SPRING)).toEqual({ weekday: 0, minuteOfDay: 3 * 60 });
    expect(localClock(BERLIN, FALL)).toEqual({ weekday: 0, minuteOfDay: 2 * 60 });
    expect(localClock(BERLIN, FALL - 1000)).toEqual({ weekday: 0, minuteOfDay: 2 * 60 + 59 });
  });

  it('starts a local day at local midnight: 24 h, and 23 h / 25 h on the DST days in Berlin', () => {
    expect(startOfLocalDay('Asia/Shanghai', utc('2026-11-30T00:30:00Z'))).toBe(utc('2026-11-29T16:00:00Z'));
    const springDay = startOfLocalDay(BERLIN, SPRING + 5 * HOUR_MS);
    expect(springDay).toBe(utc('2026-03-28T23:00:00Z'));
    expect(startOfNextLocalDay(BERLIN, SPRING) - springDay).toBe(23 * HOUR_MS);
    const fallDay = startOfLocalDay(BERLIN, FALL + 5 * HOUR_MS);
    expect(fallDay).toBe(utc('2026-10-24T22:00:00Z'));
    expect(startOfNextLocalDay(BERLIN, FALL) - fallDay).toBe(25 * HOUR_MS);
    // The last second of the local day still belongs to it.
    expect(startOfLocalDay(BERLIN, utc('2026-10-25T22:59:59Z'))).toBe(fallDay);
  });

  it('maps a wall-clock time to the earlier instant when it repeats and to the change when it is skipped', () => {
    const wall = (iso: string) => utc(`${iso}Z`);
    expect(instantOfWall(BERLIN, wall('2026-10-25T02:30:00'))).toBe(utc('2026-10-25T00:30:00Z'));
    expect(instantOfWall(BERLIN, wall('2026-03-29T02:30:00'))).toBe(SPRING);
    expect(instantOfWall('America/Sao_Paulo', wall('2018-11-04T00:00:00'))).toBe(utc('2018-11-04T03:00:00Z'));
  });

  it('cuts day buckets at local midnight and hour buckets into real hours across both changes', () => {
    const days = (from: number, to: number) => [...new Set(hourly(from, to).map((t) => bucketStart(BERLIN, t, DAY_MS)))];
    expect(days(utc('2026-03-28T00:00:00Z'), utc('2026-03-31T00:00:00Z'))).toEqual(
      ['2026-03-27T23:00:00Z', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z', '2026-03-30T22:00:00Z'].map(utc),
    );
    expect(days(utc('2026-10-24T00:00:00Z'), utc('2026-10-27T00:00:00Z'))).toEqual(
      ['2026-10-23T22:00:00Z', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', '2026-10-26T23:00:00Z'].map(utc),
    );
    // The repeated hour 02:00-03:00 is two hour buckets, each one real hour.
    const hours = hourly(FALL - 3 * HOUR_MS, FALL + 3 * HOUR_MS).map((t) => bucketStart(BERLIN, t + 1800_000, HOUR_MS));
    expect(hours).toEqual(hourly(FALL - 3 * HOUR_MS, FALL + 3 * HOUR_MS));
    // 3 h buckets: 00:00-03:00 local is 2 real hours on the spring day and 4 on the autumn day.
    expect(bucketStart(BERLIN, SPRING - 1000, 3 * HOUR_MS)).toBe(utc('2026-03-28T23:00:00Z'));
    expect(bucketStart(BERLIN, SPRING, 3 * HOUR_MS)).toBe(SPRING);
    expect(bucketStart(BERLIN, FALL + HOUR_MS - 1000, 3 * HOUR_MS)).toBe(utc('2026-10-24T22:00:00Z'));
    expect(bucketStart(BERLIN, FALL + HOUR_MS, 3 * HOUR_MS)).toBe(FALL + HOUR_MS);
    // Shorter buckets are cut in UTC whatever the zone.
    expect(bucketStart('Asia/Kolkata', utc('2026-01-01T10:20:00Z'), 30 * 60_000)).toBe(utc('2026-01-01T10:00:00Z'));
    expect(bucketStart('Asia/Shanghai', utc('2026-01-01T10:20:00Z'), DAY_MS)).toBe(utc('2025-12-31T16:00:00Z'));
  });

  it('lists the stretches of constant offset over a range', () => {
    expect(offsetSegments('Asia/Shanghai', utc('2026-01-01T00:00:00Z'), utc('2026-12-31T00:00:00Z'))).toEqual([
      { from: utc('2026-01-01T00:00:00Z'), to: utc('2026-12-31T00:00:00Z'), offsetMs: 8 * HOUR_MS },
    ]);
    expect(offsetSegments(BERLIN, utc('2026-01-01T00:00:00Z'), utc('2026-12-31T00:00:00Z'))).toEqual([
      { from: utc('2026-01-01T00:00:00Z'), to: SPRING, offsetMs: HOUR_MS },
      { from: SPRING, to: FALL, offsetMs: 2 * HOUR_MS },
      { from: FALL, to: utc('2026-12-31T00:00:00Z'), offsetMs: HOUR_MS },
    ]);
  });
});

function hourly(from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += HOUR_MS) out.push(t);
  return out;
}
