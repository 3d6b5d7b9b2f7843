import type { LevelSpec, MetricLeaf } from './compile.js';
import type { LeafState } from './evaluate.js';

/** Level crossing with hysteresis, and the `for` / `clearFor` timers that move a leaf between levels. Pure. */

/**
 * The level the value asks for: the worst level whose threshold it crosses, except that levels up to the
 * current one are kept until the value passes their clear threshold (hysteresis, so no chatter).
 */
export function targetLevel(levels: LevelSpec[], value: number, current: number): number {
  for (let i = levels.length - 1; i >= 0; i--) {
    const l = levels[i];
    // Inclusive thresholds forgive float rounding: fifty 0.2 mm tips sum to 9.999999999999998, which is 10 mm.
    const tol = l.inclusive ? 1e-9 * Math.max(1, Math.abs(l.enter)) : 0;
    const crossed = l.up ? (l.inclusive ? value >= l.enter - tol : value > l.enter) : l.inclusive ? value <= l.enter + tol : value < l.enter;
    const held = i <= current && (l.up ? value >= l.clear - tol : value <= l.clear + tol);
    if (crossed || held) return i;
  }
  return -1;
}

/** Moves the leaf toward its target level once the value has asked for it for `for` (up) or `clearFor` (down). */
export function step(levels: LevelSpec[], leaf: MetricLeaf, ls: LeafState, now: number): void {
  if (ls.value === undefined) return;
  const target = targetLevel(levels, ls.value, ls.level);
  if (target === ls.level) {
    ls.pendingLevel = ls.pendingSince = undefined; // the condition broke: the sustain timer starts over
    return;
  }
  const up = target > ls.level;
  if (ls.pendingLevel === undefined || ls.pendingLevel > ls.level !== up) ls.pendingSince = now;
  ls.pendingLevel = target;
  if (now - ls.pendingSince! >= (up ? leaf.forMs : leaf.clearForMs)) {
    ls.level = target;
    ls.pendingLevel = ls.pendingSince = undefined;
  }
}
