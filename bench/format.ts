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

/** Every ratio in the report reads the same: two decimals and "×". */
export function ratio(value: number | undefined, reference: number | undefined): string {
  if (value === undefined || reference === undefined || reference === 0) return 'n/a';
  return `${num(value / reference, 2)}×`;
}

/**
 * A speed target's verdict. A --quick run's tiny sizes measure start-up, not speed: its targets are not judged
 * (a "missed" there would mean nothing). Losing a reading is judged in every run (`always`).
 */
export function verdict(ok: boolean | undefined, o: { quick: boolean; always?: boolean }): string {
  if (o.quick && !o.always) return 'not judged (quick run)';
  return ok === undefined ? 'not measured' : ok ? 'met' : '**missed**';
}

export function mb(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes / (1024 * 1024);
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
