import { Readable } from 'node:stream';

/**
 * CSV as RFC 4180 writes it: comma-separated, CRLF line ends, a field quoted when it holds a comma, quote or
 * line break. Text that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe
 * (OWASP "CSV injection"); numbers are written as numbers. Files start with a UTF-8 byte-order mark, without
 * which Excel reads the Chinese header as mojibake.
 */
export type Cell = string | number | undefined | null;

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(value: Cell): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = FORMULA.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly Cell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export const UTF8_BOM = '\uFEFF';

/**
 * A byte stream of CSV text from chunks produced on demand: the next chunk is asked for only when the client
 * has taken the previous ones (backpressure), so memory holds about one chunk however long the export is.
 */
export function csvStream(chunks: AsyncIterable<string>): Readable {
  async function* withBom() {
    yield UTF8_BOM;
    yield* chunks;
  }
  return Readable.from(withBom(), { objectMode: false, highWaterMark: 64 * 1024 });
}

/** What the client asked for: `?format=csv`, or `Accept: text/csv` (unless `?format=json`). */
export function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format) return format === 'csv';
  return /\btext\/csv\b/i.test(accept ?? '');
}

/** A file name that survives every browser and shell: ids, dates and dashes only. */
export function attachment(name: string): string {
  return `attachment; filename="${name.replace(/[^A-Za-z0-9._-]+/g, '_')}"`;
}

/**
 * Answers a CSV download streamed from `chunks`. A route's reply is typed by its JSON response schema; fastify
 * sends a stream as it is, without that schema, hence the one cast.
 */
export function sendCsv<R extends { type(t: string): unknown; header(k: string, v: string): unknown; send(payload: never): unknown }>(
  reply: R,
  fileName: string,
  chunks: AsyncIterable<string>,
): R {
  reply.type('text/csv; charset=utf-8');
  reply.header('content-disposition', attachment(fileName));
  reply.send(csvStream(chunks) as never);
  return reply;
}
