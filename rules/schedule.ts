import { localClock } from '../core/site-time.js';
import type { ScheduleT } from './schema.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/**
 * Whether `now` falls in the rule's time-of-day window, in the site's time zone (SPEC "Identity": a barn
 * controller's schedule is wall-clock time where the farm is, never the server's). `from == to` means all day.
 * A window that wraps midnight (22:00-06:00) belongs to the day it starts on, so `days: [fri]` covers Friday
 * night into Saturday morning. On DST days the window follows the wall clock: 22:00-06:00 is 7 or 9 real hours.
 */
export function inSchedule(schedule: ScheduleT | undefined, now: number, timeZone: string): boolean {
  if (!schedule) return true;
  const { weekday, minuteOfDay: minute } = localClock(timeZone, now);
  const from = minutes(schedule.from);
  const to = minutes(schedule.to);
  const dayOk = (offset: number) => !schedule.days || schedule.days.includes(DAYS[(weekday + 7 + offset) % 7]);
  if (from === to) return dayOk(0);
  if (from < to) return minute >= from && minute < to && dayOk(0);
  // Wrapping window: the evening part starts today, the early-morning part started yesterday.
  return (minute >= from && dayOk(0)) || (minute < to && dayOk(-1));
}
