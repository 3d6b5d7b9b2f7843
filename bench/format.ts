import type { Summary } from './stats.js';

/** How figures read in the tables: thousands separators, a sensible number of digits, "median (min–max)". */
export function num(n: number | undefined, digits?: number): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  const d = digits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** A count: no decimals. */
export function int(n: number | undefined): string {
  return num(n, 0);
}

export function spread(s: Summary | undefined, digits?: number): string {
  if (!s) return 'n/a';
  if (s.runs === 1) return num(s.median, digits);
  return `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})`;
}

export function ratio(value: number | undefined, reference: number | undefined): string {
  if (value === undefined || reference === undefined || reference === 0) return 'n/a';
  return `${num(value / reference, 2)}×`;
}

/**
 * Latencies are stamped in whole milliseconds: a reference below 1 ms cannot be divided by, so the ratio is
 * given as a lower bound against 1 ms ("≥ 36.9×") rather than as a meaningless thousands-fold figure.
 */
export function latencyRatio(value: number | undefined, reference: number | undefined): string {
  if (value === undefined || reference === undefined) return 'n/a';
  if (reference < 1) return `≥ ${num(value, 1)}× (reference < 1 ms)`;
  return ratio(value, reference);
}

export function mb(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes / (1024 * 1024);
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
