import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { AlertEvent, Reading, TagRead } from '../core/domain.js';
import { createOutboxTail } from './outbox-tail.js';
import { createSqliteWriter, durablePragmas, SqliteWriteError, type SqliteWriter, type SqlValue, type WriteStep } from './sqlite-writer.js';
import type { CommandRecord } from './store.js';

/**
 * A durable queue of what is on its way to InfluxDB - readings, alert events, actuator command records and ear-tag reads -
 * so that none of it is lost to an InfluxDB outage or a restart (kill -9 included) of this service.
 * One queue, one row per item, numbered in arrival order whatever its kind; rows leave only from the front,
 * either delivered (remove) or set aside as undeliverable (deadLetter). The drainer reads the front as runs
 * of one kind (peekRun), so a backlog of readings still goes out in large batches.
 * Writes (append, remove, deadLetter) run in a worker thread (store/sqlite-writer.ts), so their commits and
 * fsyncs never hold up the event loop; reads run here on a query-only connection that never needs the write lock.
 */
export interface OutboxPayloads {
  reading: Reading;
  alert: AlertEvent;
  command: CommandRecord;
  tagRead: TagRead;
  /**
   * A reading already written as the line InfluxDB takes (store/influx-points.ts), kept as that text: the drainer
   * then sends a run as it is, with no parsing and formatting per reading on the event loop (issue 18).
   */
  readingLine: string;
}
export type OutboxKind = keyof OutboxPayloads;
export const OUTBOX_KINDS = ['reading', 'alert', 'command', 'tagRead', 'readingLine'] as const satisfies readonly OutboxKind[];
/** What depths are reported by: a reading is a reading whether it waits as JSON or as a line. */
export type OutboxCategory = Exclude<OutboxKind, 'readingLine'>;
export const OUTBOX_CATEGORIES = ['reading', 'alert', 'command', 'tagRead'] as const satisfies readonly OutboxCategory[];

/** Consecutive entries of one kind from the front of the queue, oldest first; lines as one text, one per line. */
export type OutboxRun =
  { [K in OutboxCategory]: { kind: K; values: OutboxPayloads[K][]; seqs: number[] } }[OutboxCategory] | { kind: 'readingLine'; text: string; seqs: number[] };

export interface Outbox {
  /** Atomic: once it resolves, the items are on disk (fsynced), after everything appended before. */
  append<K extends OutboxKind>(kind: K, values: readonly OutboxPayloads[K][]): Promise<void>;
  /** The run at the front: up to `max` oldest entries, as long as they are of the first one's kind; without removing them. */
  peekRun(max: number): OutboxRun | undefined;
  /** Removes every entry up to and including `upToSeq` (delivered). */
  remove(upToSeq: number): Promise<void>;
  /** Moves entries up to `upToSeq` to the dead table with the reason; they stay inspectable, never retried. Resolves to how many. */
  deadLetter(upToSeq: number, reason: string): Promise<number>;
  /** Entries waiting (appended and committed), all kinds. */
  depth(): number;
  depthByKind(): Record<OutboxCategory, number>;
  /** How long the oldest waiting entry (of any kind) has waited; 0 when empty. */
  oldestAgeMs(now: number): number;
  deadCount(): number;
  /** The readings waiting, oldest first, as stored: a Reading (kind `reading`) or its line (kind `readingLine`). */
  waitingReadings(): IterableIterator<{ kind: 'reading'; value: Reading } | { kind: 'readingLine'; line: string }>;
  /** Waits for the writes in flight, then closes the file. */
  close(): Promise<void>;
}

/** 1: readings only (no kind column). 2: a kind per row. */
const SCHEMA_VERSION = 2;

export function createOutbox(options: { dataDir: string; logger: Logger; clock?: { now(): number } }): Outbox {
  mkdirSync(options.dataDir, { recursive: true });
  const path = join(options.dataDir, 'outbox.db');
  const now = () => options.clock?.now() ?? Date.now();
  const db = new Database(path);
  // synchronous=FULL, not NORMAL: append() is the moment a reading is acknowledged as stored (the device gets
  // its PUBACK and forgets it) and an alert or command is recorded. NORMAL could lose the last commits on power
  // loss, which is common on a farm; FULL fsyncs the WAL on every commit, and ingest batches readings so that is
  // a few fsyncs a second - in the writer thread.
  const pragmas = durablePragmas(5000);
  for (const pragma of pragmas) db.pragma(pragma);
  migrate(db, path, options.logger);
  // From here on this connection only reads: every write goes through the writer thread (started on the first one).
  db.pragma('query_only = ON');
  const front = db.prepare('SELECT seq, kind, json FROM outbox ORDER BY seq LIMIT ?');
  const headKind = db.prepare('SELECT kind FROM outbox ORDER BY seq LIMIT 1').pluck();
  // A run of readings as one text built by SQLite: a JSON array, or the lines one per line. One string for thousands
  // of entries instead of a row object and a parse each (the drainer's largest cost on the event loop, issue 18).
  const frontText = (head: string, separator: string, tail: string) =>
    db.prepare(`
      SELECT '${head}' || group_concat(json, ${separator} ORDER BY seq) || '${tail}' AS body, count(*) AS n, min(seq) AS first, max(seq) AS last
      FROM (SELECT seq, json FROM outbox ORDER BY seq LIMIT @max)
      WHERE seq < coalesce((SELECT min(seq) FROM (SELECT seq, kind FROM outbox ORDER BY seq LIMIT @max) WHERE kind <> @kind), 9007199254740991)`);
  const frontArray = frontText('[', "','", ']');
  const frontLines = frontText('', 'char(10)', '');
  const oldest = db.prepare('SELECT appended_at FROM outbox ORDER BY seq LIMIT 1');
  const countDead = db.prepare('SELECT count(*) AS n FROM dead');
  const readingRows = db.prepare("SELECT kind, json FROM outbox WHERE kind IN ('reading', 'readingLine') ORDER BY seq");
  const writer: SqliteWriter = createSqliteWriter({ path, label: `outbox ${path}`, pragmas });

  // count(*) is a full scan; after one at open the depths are kept in memory (only this process writes the file).
  const depths: Record<OutboxKind, number> = { reading: 0, alert: 0, command: 0, tagRead: 0, readingLine: 0 };
  const countByKind = db.prepare('SELECT kind, count(*) AS n FROM outbox GROUP BY kind');
  function recount() {
    const counted: Record<OutboxKind, number> = { reading: 0, alert: 0, command: 0, tagRead: 0, readingLine: 0 };
    for (const row of countByKind.all() as { kind: string; n: number }[]) {
      if (!isKind(row.kind))
        throw new Error(
          `${path} holds ${row.n} entries of kind "${row.kind}", which this version does not know: it was written by a newer farmwatch; run that version until its outbox is empty, or move the file aside`,
        );
      counted[row.kind] = row.n;
    }
    Object.assign(depths, counted);
  }
  recount();
  // Readings' lines as appended, for the drainer to send without reading them back (outbox-tail.ts). Bounded just
  // above the default OUTBOX_HIGH_WATER (50,000), where ingest waits for a healthy InfluxDB that is behind, so the
  // tail stays in use under full load; an outage's backlog grows past it and then waits on disk only (about 200
  // bytes an entry: 12 MB at most; at 100,000 entries the outage test saw the heap grow by 24 MB).
  const tail = createOutboxTail({ complete: depths.reading + depths.alert + depths.command + depths.tagRead + depths.readingLine === 0, maxEntries: 60_000 });
  /**
   * A write SQLite refused was rolled back, but one whose writer thread died may have committed before it could
   * answer: then count again (once no other write is in flight to be counted twice) rather than let the depths drift.
   */
  async function counted<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } catch (err) {
      tail.invalidate();
      if (!(err instanceof SqliteWriteError) && writer.pending() === 0 && db.open) recount();
      throw err;
    }
  }
  const total = () => depths.reading + depths.alert + depths.command + depths.tagRead + depths.readingLine;
  if (total() > 0)
    options.logger.info({ path, depth: total(), byKind: { ...depths } }, 'outbox holds entries from before the restart; they will be sent first');

  /** Removes (or moves to the dead table) the front up to a seq and keeps the depths right. */
  async function takeFront(upToSeq: number, dead?: string): Promise<number> {
    const [counts, , removed] = await counted(
      writer.transaction([
        { sql: 'SELECT kind, count(*) AS n FROM outbox WHERE seq <= ? GROUP BY kind', rows: [[upToSeq]], all: true },
        {
          sql: 'INSERT OR REPLACE INTO dead (seq, appended_at, failed_at, reason, kind, json) SELECT seq, appended_at, ?, ?, kind, json FROM outbox WHERE seq <= ?',
          rows: dead === undefined ? [] : [[now(), dead, upToSeq]],
        },
        { sql: 'DELETE FROM outbox WHERE seq <= ?', rows: [[upToSeq]] },
      ]),
    );
    for (const c of counts.rows as { kind: OutboxKind; n: number }[]) depths[c.kind] -= c.n;
    tail.removed(upToSeq, total());
    return removed.changes;
  }

  return {
    async append(kind, values) {
      if (values.length === 0) return;
      const at = now();
      const sql = 'INSERT INTO outbox (appended_at, kind, json) VALUES (?, ?, ?)';
      let step: WriteStep;
      // Lines go over as one text (no array of strings to copy), unless one holds a newline (a line never does).
      if (kind === 'readingLine' && !(values as readonly string[]).some((v) => v.includes('\n')))
        step = { sql, lines: (values as readonly string[]).join('\n'), before: [at, kind] };
      else {
        const flat: SqlValue[] = [];
        for (const v of values) flat.push(at, kind, kind === 'readingLine' ? (v as string) : JSON.stringify(v));
        step = { sql, flat, width: 3 };
      }
      const [inserted] = await counted(writer.transaction([step]));
      depths[kind] += values.length;
      // One transaction of the one writer: its entries are numbered without a gap, ending at the last rowid.
      if (inserted.lastRowid === undefined) tail.invalidate();
      else tail.appended(kind, inserted.lastRowid - values.length + 1, values.length, kind === 'readingLine' ? (values as readonly string[]) : undefined);
    },
    peekRun(max) {
      const fromTail = tail.frontLines(max);
      if (fromTail === 'empty') return undefined;
      if (fromTail) return { kind: 'readingLine', text: fromTail.text, seqs: range(fromTail.first, fromTail.count) };
      const kind = headKind.get() as OutboxKind | undefined;
      if (kind === undefined) return undefined;
      if (kind === 'readingLine') {
        const a = frontLines.get({ max, kind }) as { body: string; n: number; first: number; last: number };
        if (a.n > 0 && a.last - a.first + 1 === a.n) return { kind, text: a.body, seqs: range(a.first, a.n) };
        const lines: string[] = [];
        const seqs: number[] = [];
        for (const row of front.iterate(max) as IterableIterator<{ seq: number; kind: OutboxKind; json: string }>) {
          if (row.kind !== kind) break;
          lines.push(row.json);
          seqs.push(row.seq);
        }
        return { kind, text: lines.join('\n'), seqs };
      }
      if (kind === 'reading' || kind === 'tagRead') {
        const a = frontArray.get({ max, kind }) as { body: string; n: number; first: number; last: number };
        // Entries are appended with increasing numbers and leave only from the front, so a run has no gaps; a file
        // edited by hand might: then row by row below.
        if (a.n > 0 && a.last - a.first + 1 === a.n)
          return { kind, values: JSON.parse(a.body) as OutboxPayloads[typeof kind][], seqs: range(a.first, a.n) } as OutboxRun;
      }
      let run: { kind: OutboxKind; values: unknown[]; seqs: number[] } | undefined;
      // iterate(), not all(): stops reading at the first entry of another kind, so a lone alert in front of
      // 5000 readings costs one row, not 5000.
      for (const row of front.iterate(max) as IterableIterator<{ seq: number; kind: OutboxKind; json: string }>) {
        if (!run) run = { kind: row.kind, values: [], seqs: [] };
        else if (row.kind !== run.kind) break;
        run.values.push(JSON.parse(row.json));
        run.seqs.push(row.seq);
      }
      return run as OutboxRun | undefined;
    },
    async remove(upToSeq) {
      await takeFront(upToSeq);
    },
    deadLetter(upToSeq, reason) {
      return takeFront(upToSeq, reason);
    },
    depth: total,
    depthByKind: () => ({ reading: depths.reading + depths.readingLine, alert: depths.alert, command: depths.command, tagRead: depths.tagRead }),
    oldestAgeMs(at) {
      const row = oldest.get() as { appended_at: number } | undefined;
      return row ? Math.max(0, at - row.appended_at) : 0;
    },
    deadCount: () => (countDead.get() as { n: number }).n,
    *waitingReadings() {
      for (const row of readingRows.iterate() as IterableIterator<{ kind: 'reading' | 'readingLine'; json: string }>)
        yield row.kind === 'reading' ? { kind: 'reading', value: JSON.parse(row.json) as Reading } : { kind: 'readingLine', line: row.json };
    },
    async close() {
      // The reader first, so the writer thread holds the last connection and checkpoints the WAL there.
      if (db.open) db.close();
      await writer.close();
    },
  };
}

function range(first: number, n: number): number[] {
  const seqs = new Array<number>(n);
  for (let i = 0; i < n; i++) seqs[i] = first + i;
  return seqs;
}

function isKind(kind: string): kind is OutboxKind {
  return (OUTBOX_KINDS as readonly string[]).includes(kind);
}

/**
 * Creates the tables, or brings an outbox.db of an earlier version up to date without losing its backlog:
 * version 1 held readings only, so its rows get kind 'reading' (ADD COLUMN with a default rewrites nothing,
 * so this is instant even for millions of rows). One transaction: a crash midway leaves version 1 intact.
 */
function migrate(db: Database.Database, path: string, logger: Logger): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION)
    throw new Error(
      `${path} has schema version ${version}, newer than this farmwatch knows (${SCHEMA_VERSION}): run the newer version until its outbox is empty, or move the file aside`,
    );
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        appended_at INTEGER NOT NULL,
        kind TEXT NOT NULL DEFAULT 'reading',
        json TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS dead (
        seq INTEGER PRIMARY KEY,
        appended_at INTEGER NOT NULL,
        failed_at INTEGER NOT NULL,
        reason TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'reading',
        json TEXT NOT NULL
      );
    `);
    let migrated = false;
    for (const table of ['outbox', 'dead']) {
      const columns = db.pragma(`table_info(${table})`) as { name: string }[];
      if (columns.some((c) => c.name === 'kind')) continue;
      db.exec(`ALTER TABLE ${table} ADD COLUMN kind TEXT NOT NULL DEFAULT 'reading'`);
      migrated = true;
    }
    if (migrated) logger.info({ path }, 'outbox.db upgraded to hold alert events and command records too; its waiting readings are kept and sent first');
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
