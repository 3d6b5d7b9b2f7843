/** Fires a timer every few ms and records the longest gap: a thread blocked (on SQLite, say) shows up as a long one. */
export function watchEventLoop(everyMs = 5): { stop(): number } {
  let last = performance.now();
  let longestGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
  }, everyMs);
  return { stop: () => (clearInterval(timer), longestGapMs) };
}
