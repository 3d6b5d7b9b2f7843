import type { ScheduleT } from './schema.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/**
 * Whether `now` falls in the rule's time-of-day window, in the service's local time (a barn
 * controller's schedule is wall-clock time where the farm is). `from == to` means all day. A window
 * that wraps midnight (22:00-06:00) belongs to the day it starts on, so `days: [fri]` covers Friday
 * night into Saturday morning.
 */
export function inSchedule(schedule: ScheduleT | undefined, now: number): boolean {
  if (!schedule) return true;
  const d = new Date(now);
  const minute = d.getHours() * 60 + d.getMinutes();
  const from = minutes(schedule.from);
  const to = minutes(schedule.to);
  const dayOk = (offset: number) => !schedule.days || schedule.days.includes(DAYS[(d.getDay() + 7 + offset) % 7]);
  if (from === to) return dayOk(0);
  if (from < to) return minute >= from && minute < to && dayOk(0);
  // Wrapping window: the evening part starts today, the early-morning part started yesterday.
  return (minute >= from && dayOk(0)) || (minute < to && dayOk(-1));
}
