import { parse } from 'csv-parse/sync';
import { AnimalEntry, type AnimalEntryT } from './animals.js';

/**
 * The register as CSV (SPEC "Animals": `POST /api/animals/import`, also `animals.registerFile`): a header
 * `tag,group,born,sex,zone` (any order; an optional `site` column for zone ids two sites share), one animal a
 * line. Pure: every line is judged on its own, a bad line is reported with its number and reason and the
 * others go on; a tag listed twice keeps its first line.
 */
export const CSV_COLUMNS = ['tag', 'group', 'born', 'sex', 'zone'] as const;
const OPTIONAL_COLUMNS = ['site'];

export interface CsvRejection {
  line: number;
  reason: string;
  text: string;
}

export interface CsvResult {
  animals: (AnimalEntryT & { line: number })[];
  rejected: CsvRejection[];
  /** Data lines seen (the header and blank lines not counted). */
  lines: number;
}

export class CsvError extends Error {
  readonly code = 'CSV_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'CsvError';
  }
}

/** Checks a zone (and optional site) against the farm: undefined when fine, else the reason. */
export type ZoneCheck = (zone: string, site: string | undefined) => string | undefined;

export function parseAnimalsCsv(text: string, checkZone?: ZoneCheck): CsvResult {
  let records: { record: string[]; line: number; raw: string }[];
  try {
    records = (
      parse(text.replace(/^\uFEFF/, ''), { bom: true, relax_column_count: true, skip_empty_lines: true, trim: true, info: true, raw: true }) as unknown as {
        record: string[];
        info: { lines: number };
        raw: string;
      }[]
    ).map((r) => ({ record: r.record, line: r.info.lines, raw: r.raw }));
  } catch (err) {
    throw new CsvError(`the CSV cannot be read (${(err as Error).message.split('\n')[0]}): check quotes and line endings`);
  }
  const [header, ...rows] = records;
  if (!header) throw new CsvError(`the CSV is empty: the first line is the header ${CSV_COLUMNS.join(',')}`);
  const columns = header.record.map((c) => c.toLowerCase());
  const missing = CSV_COLUMNS.filter((c) => c !== 'group' && c !== 'born' && c !== 'sex' && !columns.includes(c));
  const unknown = columns.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c) && !OPTIONAL_COLUMNS.includes(c));
  if (missing.length > 0 || unknown.length > 0)
    throw new CsvError(
      `the header line must be ${CSV_COLUMNS.join(',')} (any order, optional site)${missing.length ? `; missing: ${missing.join(', ')}` : ''}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`,
    );
  const out: CsvResult = { animals: [], rejected: [], lines: rows.length };
  const firstLine = new Map<string, number>();
  for (const { record, line, raw } of rows) {
    const reject = (reason: string) => out.rejected.push({ line, reason, text: raw.trim().slice(0, 200) });
    if (record.length !== columns.length) {
      reject(`has ${record.length} fields, the header has ${columns.length}`);
      continue;
    }
    const fields = Object.fromEntries(columns.map((c, i): [string, string] => [c, record[i]]).filter(([, v]) => v !== ''));
    const parsed = AnimalEntry.safeParse(fields);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      reject(`${issue.path.join('.') || 'line'}: ${issue.message}`);
      continue;
    }
    const animal = parsed.data;
    const zoneProblem = checkZone?.(animal.zone, animal.site);
    if (zoneProblem) {
      reject(`zone: ${zoneProblem}`);
      continue;
    }
    const first = firstLine.get(animal.tag);
    if (first !== undefined) {
      reject(`tag ${animal.tag} is already on line ${first}`);
      continue;
    }
    firstLine.set(animal.tag, line);
    out.animals.push({ ...animal, line });
  }
  return out;
}
