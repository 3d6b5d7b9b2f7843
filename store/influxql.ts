/**
 * InfluxQL text building. Every name and value that reaches a query goes through `ident` or `str`,
 * so a site id or metric name can never change the shape of a statement.
 * Escapes as the InfluxQL scanner reads them (influxql/scanner.go: ScanString, scanIdent).
 */

/** A double-quoted identifier: measurement, tag or field key. */
export function ident(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A single-quoted string literal: tag values compared in WHERE. */
export function str(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** An absolute time as an epoch literal with unit: `1732280000000ms`. */
export function epochMs(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${ms}`);
  return `${Math.trunc(ms)}ms`;
}

/** WHERE over tag equalities and a [from,to) time range; empty when nothing filters. */
export function where(tags: Record<string, string | undefined>, range: { from?: number; to?: number } = {}): string {
  const parts: string[] = [];
  if (range.from !== undefined) parts.push(`time >= ${epochMs(range.from)}`);
  if (range.to !== undefined) parts.push(`time < ${epochMs(range.to)}`);
  for (const [tag, value] of Object.entries(tags)) if (value !== undefined) parts.push(`${ident(tag)} = ${str(value)}`);
  return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
}

/** The JSON answer of /query (InfluxDB 1.x and the 2.x v1-compatibility endpoint). */
export interface InfluxSeries {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}

export interface InfluxResult {
  statement_id?: number;
  series?: InfluxSeries[];
  error?: string;
}

export interface InfluxQueryResponse {
  results?: InfluxResult[];
  error?: string;
}

/** Rows of a series as objects keyed by column name. */
export function rows(series: InfluxSeries): Record<string, unknown>[] {
  return (series.values ?? []).map((v) => Object.fromEntries(series.columns.map((c, i) => [c, v[i]])));
}
