/** Durations in config and rules: `500ms`, `30s`, `10m`, `6h`, `1d`, or a plain number of milliseconds. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

export function parseDurationMs(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`duration must be a non-negative number of ms, got ${input}`);
    return input;
  }
  const match = PATTERN.exec(input.trim());
  if (!match) throw new Error(`"${input}" is not a duration: write e.g. 500ms, 30s, 10m, 6h or 1d`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2]]);
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
