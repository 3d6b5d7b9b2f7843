/**
 * Simulated time that a whole in-process service can run on. It implements the rules engine's Clock
 * (now, setTimeout, clearTimeout) but moves only when the simulator runner calls `advanceTo`: timers fire
 * in order as simulated time passes them, each seeing `now()` equal to its own due time.
 *
 * Why: the service judges `for`, `minOn`, windows, stale sensors and ack timeouts on its clock. Against a
 * sped-up simulation on the wall clock those would last N times longer in simulated time, and a pause of
 * the test machine would look like silent sensors. With this clock the runner advances time in lockstep
 * (a step starts only when the previous step's messages were acknowledged), so a scenario at any speed
 * meets the rules exactly as it would in real time.
 */
export interface SimClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Moves time forward to `ts` (epoch ms), firing the timers due on the way, and returns the time reached.
   * With `pauseWhen`, it stops right after a timer that made it true (e.g. the service sent a command that
   * must be answered before time goes on), at that timer's due time. Never moves backwards.
   */
  advanceTo(ts: number, pauseWhen?: () => boolean): number;
  /** Timers waiting to fire. */
  pendingTimers(): number;
}

interface Timer {
  id: number;
  due: number;
  fn: () => void;
}

export class ClockError extends Error {
  readonly code = 'SIM_CLOCK';
  constructor(message: string) {
    super(message);
    this.name = 'ClockError';
  }
}

/** Timers a single advance may fire before it is considered a runaway (a timer re-arming itself with 0 ms). */
const MAX_FIRES_PER_ADVANCE = 200_000;

export function createSimClock(startTs: number): SimClock {
  if (!Number.isFinite(startTs)) throw new ClockError(`the simulated clock needs a start time in epoch ms, got ${startTs}`);
  let now = startTs;
  let nextId = 1;
  // Kept sorted by (due, id): few timers are live at once (the rules tick, a retry or two).
  const timers: Timer[] = [];

  function insert(t: Timer): void {
    let i = timers.length;
    while (i > 0 && timers[i - 1].due > t.due) i--;
    timers.splice(i, 0, t);
  }

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const t = { id: nextId++, due: now + Math.max(0, Number.isFinite(ms) ? ms : 0), fn };
      insert(t);
      return t.id;
    },
    clearTimeout(handle) {
      const i = timers.findIndex((t) => t.id === handle);
      if (i >= 0) timers.splice(i, 1);
    },
    advanceTo(ts, pauseWhen) {
      if (!(ts >= now)) return now;
      let fired = 0;
      while (timers.length > 0 && timers[0].due <= ts) {
        const t = timers.shift()!;
        now = Math.max(now, t.due);
        if (++fired > MAX_FIRES_PER_ADVANCE) throw new ClockError('a timer keeps re-arming itself without delay: simulated time cannot advance');
        t.fn();
        if (pauseWhen?.()) return now;
      }
      now = ts;
      return now;
    },
    pendingTimers: () => timers.length,
  };
}
