/**
 * When a message to one channel about one site goes out (pure). Alerts of a storm (eleven pipes filling within a
 * minute) must reach a phone as one message, not eleven, yet the first alert of a quiet night must not wait long:
 *
 * - the first message of a site to a channel waits `waitMs` (default 10 s) for companions, then goes with all
 *   that came in meanwhile;
 * - after a message, the next one for the same site and channel goes no earlier than `intervalMs` (default 1 min)
 *   later, carrying everything that came in since.
 *
 * So a channel gets at most about one message per site and minute, and one alone waits 10 s. This is
 * Alertmanager's group_wait / group_interval (there 30 s / 5 min) with shorter defaults, because a farm's or a
 * drainage district's alerts are few and each matters.
 */
export interface GroupTiming {
  waitMs: number;
  intervalMs: number;
}

export const DEFAULT_GROUP_TIMING: GroupTiming = { waitMs: 10_000, intervalMs: 60_000 };

/** When a new group for (site, channel) goes out, given when the previous one went (if ever). */
export function groupSendTime(lastSentAt: number | undefined, now: number, timing: GroupTiming): number {
  return Math.max(now + timing.waitMs, lastSentAt === undefined ? 0 : lastSentAt + timing.intervalMs);
}
