/**
 * Readings stamped well before the newest one a device already sent: they are stored, but the rules judge a level
 * by the newest value and skip them (rules/evaluate.ts: "a newer value already holds"), so nothing reacts to them
 * until their stamps pass it. That happens when a device's clock jumps back, or when a second sped-up simulator run
 * replays simulated hours against a service that has the first run's (or the live demo's) newer readings. Silently
 * skipped readings look like a broken rule, so the service says so: one warning per device and `everyMs`.
 *
 * Pure: what to warn about is decided here, the caller logs it and counts it.
 */
export interface LateReadings {
  /** The newest reading of each device at start (the store's), so a run after a restart is judged the same way. */
  seed(newest: Iterable<{ device: string; ts: number }>): void;
  /**
   * The newest stamp of one message's readings; returns a warning when it is more than `toleranceMs` before the
   * device's newest and none was given for that device within `everyMs`.
   */
  check(device: string, newestTs: number, now: number): LateWarning | undefined;
}

export interface LateWarning {
  device: string;
  /** The device's newest stamp so far, epoch ms. */
  newest: number;
  behindMs: number;
  /** Late messages of this device since the last warning, this one included. */
  count: number;
  message: string;
}

function span(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 120) return `${min} min`;
  const h = Math.round(min / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} days`;
}

export function createLateReadings(options: { toleranceMs?: number; everyMs?: number } = {}): LateReadings {
  // A store-and-forward batch is newer than what came before the outage; a minute covers clocks a little apart.
  const toleranceMs = options.toleranceMs ?? 60_000;
  const everyMs = options.everyMs ?? 10 * 60_000;
  const newest = new Map<string, number>();
  const warned = new Map<string, { at: number; count: number }>();
  return {
    seed(values) {
      for (const v of values) if (v.ts > (newest.get(v.device) ?? -Infinity)) newest.set(v.device, v.ts);
    },
    check(device, ts, now) {
      const last = newest.get(device);
      if (last === undefined || ts > last) {
        newest.set(device, ts);
        return undefined;
      }
      if (last - ts <= toleranceMs) return undefined;
      const w = warned.get(device) ?? { at: -Infinity, count: 0 };
      w.count++;
      warned.set(device, w);
      if (now - w.at < everyMs) return undefined;
      const count = w.count;
      w.at = now;
      w.count = 0;
      return {
        device,
        newest: last,
        behindMs: last - ts,
        count,
        message:
          `readings of ${device} are stamped ${span(last - ts)} before its newest (${new Date(last).toISOString()}): they are stored, ` +
          'but rules judge by the newest value and skip them until their stamps pass it. A device clock set back, or a second ' +
          'sped-up simulator run against this service (see simulators/README.md, "Time"): start the service on a fresh DATA_DIR, ' +
          'or run the simulator at --speed 1',
      };
    },
  };
}
