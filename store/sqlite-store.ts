import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { withAlertDefaults, type AlertEvent, type Reading, type TagRead } from '../core/domain.js';
import { isIncrement } from '../core/metrics-catalog.js';
import { DAY_MS, LOCAL_BUCKETS_FROM_MS, offsetSegments } from '../core/site-time.js';
import { DEFAULT_EVENT_LIMIT, DEFAULT_RAW_LIMIT } from './defaults.js';
import { applySchema, whereClause } from './sqlite-schema.js';
import { createSqliteWriter, durablePragmas, type SqliteWriter, type SqlValue, type WriteStep } from './sqlite-writer.js';
import {
  StoreError,
  type CommandRecord,
  type EventQuery,
  type HistoryBucket,
  type HistoryQuery,
  type HistorySeries,
  type LatestValue,
  type RawPoint,
  type RawQuery,
  type Store,
  type TagPosition,
} from './store.js';

/**
 * The embedded store: one SQLite file under DATA_DIR, used when INFLUX_URL is not set.
 * Writes run in a worker thread (store/sqlite-writer.ts), so their commits and fsyncs never hold up the event
 * loop (MQTT, rules); reads run here on a connection that is query-only, so it never waits for the write lock.
 */
export interface SqliteStoreOptions {
  dataDir: string;
  logger: Logger;
  /** How long a write waits for a lock another process holds on farm.db before failing (retryable). */
  busyTimeoutMs?: number;
}

// INSERT OR IGNORE on the (device, metric, ts) key: a value sent again is stored once and the first value stands
// (SPEC: readings are idempotent).
const INSERT_READING = 'INSERT OR IGNORE INTO readings (ts, site, zone, kind, device, metric, value) VALUES (?, ?, ?, ?, ?, ?, ?)';
// Only a newer reading moves "latest": late store-and-forward batches and values sent again must not.
const UPSERT_LATEST = `
  INSERT INTO latest (device, metric, site, zone, kind, ts, value) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (device, metric) DO UPDATE SET
    site = excluded.site, zone = excluded.zone, kind = excluded.kind, ts = excluded.ts, value = excluded.value
  WHERE excluded.ts > latest.ts`;
const INSERT_ALERT = 'INSERT INTO alerts (ts, site, json) VALUES (?, ?, ?)';
const INSERT_COMMAND = 'INSERT INTO commands (ts, site, device, json) VALUES (?, ?, ?, ?)';
// The first read of a (tag, device, ts) stands: a redelivery is the same read.
const INSERT_TAG_READ = 'INSERT OR IGNORE INTO tag_reads (tag, device, ts, site, zone, kind, direction) VALUES (?, ?, ?, ?, ?, ?, ?)';
const upsertTagLast = (table: string) => `
  INSERT INTO ${table} (tag, ts, site, zone, kind, device, direction) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (tag) DO UPDATE SET ts = excluded.ts, site = excluded.site, zone = excluded.zone, kind = excluded.kind, device = excluded.device, direction = excluded.direction
  WHERE excluded.ts > ${table}.ts OR (excluded.ts = ${table}.ts AND excluded.device > ${table}.device)`;
const UPSERT_TAG_LAST = upsertTagLast('tag_last');
const UPSERT_TAG_LAST_GATE = upsertTagLast('tag_last_gate');
const TAG_COLUMNS = 'tag, device, ts, site, zone, kind, direction';

interface TagRow {
  tag: string;
  device: string;
  ts: number;
  site: string;
  zone: string;
  kind: string;
  direction: string | null;
}

function tagRead(row: TagRow): TagRead {
  const r: TagRead = { site: row.site, zone: row.zone, kind: row.kind as TagRead['kind'], device: row.device, ts: row.ts, tag: row.tag };
  if (row.direction === 'in' || row.direction === 'out') r.direction = row.direction;
  return r;
}

/** Rows for a batch of tag reads: every read, plus one newest-read upsert per tag (and per tag's gate reads). */
function tagReadSteps(reads: TagRead[]): { sql: string; rows: SqlValue[][] }[] {
  const rows: SqlValue[][] = [];
  const last = new Map<string, TagRead>();
  const lastGate = new Map<string, TagRead>();
  const newer = (a: TagRead, b: TagRead | undefined) => !b || a.ts > b.ts || (a.ts === b.ts && a.device > b.device);
  for (const r of reads) {
    rows.push([r.tag, r.device, r.ts, r.site, r.zone, r.kind, r.direction ?? null]);
    if (newer(r, last.get(r.tag))) last.set(r.tag, r);
    if (r.direction && newer(r, lastGate.get(r.tag))) lastGate.set(r.tag, r);
  }
  const upsertRow = (r: TagRead): SqlValue[] => [r.tag, r.ts, r.site, r.zone, r.kind, r.device, r.direction ?? null];
  return [
    { sql: INSERT_TAG_READ, rows },
    { sql: UPSERT_TAG_LAST, rows: [...last.values()].map(upsertRow) },
    { sql: UPSERT_TAG_LAST_GATE, rows: [...lastGate.values()].map(upsertRow) },
  ];
}

export function createSqliteStore(options: SqliteStoreOptions): Store {
  const path = join(options.dataDir, 'farm.db');
  const logger = options.logger.child({ store: 'embedded' });
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  /** Reads only (query_only): the dashboard, rules recovery and the API. */
  let db: Database.Database | undefined;
  let writer: SqliteWriter | undefined;
  let opening: Promise<void> | undefined;

  function reader(): Database.Database {
    if (!db) throw new StoreError('STORE_QUERY', `embedded store ${path} is not open: call init() first`);
    return db;
  }

  /** Failures surface as typed StoreErrors that name the file and what failed. */
  function storeError(code: 'STORE_WRITE' | 'STORE_QUERY', what: string, err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    const message = err instanceof Error ? err.message : String(err);
    // SQLITE_BUSY / SQLITE_FULL / IOERR are conditions that can pass (another process, disk space freed).
    const retryable = /BUSY|LOCKED|FULL|IOERR/.test((err as { code?: string }).code ?? '');
    return new StoreError(code, `embedded store ${path}: ${what} failed: ${message}`, retryable);
  }

  /** better-sqlite3 reads are synchronous: wrap each so failures surface as typed StoreErrors. */
  function query<T>(what: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(storeError('STORE_QUERY', what, err));
    }
  }

  /** One transaction in the writer thread; resolves once committed and fsynced. */
  async function write(what: string, steps: WriteStep[]): Promise<void> {
    if (!writer) throw new StoreError('STORE_WRITE', `embedded store ${path} is not open: call init() first`);
    try {
      await writer.transaction(steps);
    } catch (err) {
      throw storeError('STORE_WRITE', what, err);
    }
  }

  function readingSteps(readings: Reading[]): WriteStep[] {
    // A row per metric, as a table of numbers moved (not copied) to the writer thread, the strings a batch repeats
    // (site, zone, kind, device, metric) by their index in a list: handing 1,000 readings over was 10 % of the event
    // loop at full load as arrays of values (issue 18).
    let rows = 0;
    for (const r of readings) for (const _ in r.metrics) rows++;
    const table = new Float64Array(rows * 7);
    const strings: string[] = [];
    const index = new Map<string, number>();
    const id = (s: string) => {
      let i = index.get(s);
      if (i === undefined) index.set(s, (i = strings.push(s) - 1));
      return i;
    };
    // "latest" needs one upsert per device and metric, not one per reading: a batch of a chatty device's
    // readings would otherwise rewrite the same row hundreds of times (it was a tenth of the write cost).
    const newest = new Map<string, Map<string, Reading>>();
    let at = 0;
    for (const r of readings) {
      let ofDevice = newest.get(r.device);
      if (!ofDevice) newest.set(r.device, (ofDevice = new Map<string, Reading>()));
      const site = id(r.site);
      const zone = id(r.zone);
      const kind = id(r.kind);
      const device = id(r.device);
      for (const metric in r.metrics) {
        table[at++] = r.ts;
        table[at++] = site;
        table[at++] = zone;
        table[at++] = kind;
        table[at++] = device;
        table[at++] = id(metric);
        table[at++] = r.metrics[metric];
        const seen = ofDevice.get(metric);
        if (!seen || r.ts >= seen.ts) ofDevice.set(metric, r);
      }
    }
    const latest: SqlValue[] = [];
    for (const [device, ofDevice] of newest) for (const [metric, r] of ofDevice) latest.push(device, metric, r.site, r.zone, r.kind, r.ts, r.metrics[metric]);
    return [
      { sql: INSERT_READING, numbers: table, width: 7, strings, stringColumns: [1, 2, 3, 4, 5] },
      { sql: UPSERT_LATEST, flat: latest, width: 7 },
    ];
  }

  async function open(): Promise<void> {
    let d: Database.Database | undefined;
    let w: SqliteWriter | undefined;
    try {
      mkdirSync(options.dataDir, { recursive: true });
      d = new Database(path);
      // WAL lets the dashboard read while ingest writes. FULL fsyncs every commit: a commit is the moment a
      // QoS 1 reading is acknowledged, and a device forgets what was acknowledged, so NORMAL (sync at
      // checkpoints only) could lose acknowledged readings on a power cut. Ingest group-commits, so this is
      // one fsync per batch (BATCH_INTERVAL), not per reading; and it happens in the writer thread.
      const pragmas = durablePragmas(busyTimeoutMs);
      for (const pragma of pragmas) d.pragma(pragma);
      // The schema is the only write on this thread, at start-up before the writer exists; from here on
      // this connection cannot write, so no statement of the event loop ever waits for the write lock.
      applySchema(d);
      d.pragma('query_only = ON');
      // The writer's page cache at 64 MB (SQLite's default is 2 MB): every reading adds a row per metric to the table
      // and its two indexes, and with their pages cached the writer took about twice as many readings a second
      // (600,000 readings: 27-34k -> 51-60k/s, issue 18). Pages are cached only as they are used.
      w = createSqliteWriter({ path, label: `embedded store ${path}`, pragmas: [...pragmas, 'cache_size = -65536'] });
      await w.transaction([]); // the thread is up and has the file open
      db = d;
      writer = w;
      logger.info({ path }, 'embedded store open');
    } catch (err) {
      d?.close();
      await w?.close().catch(() => {});
      const message = err instanceof Error ? err.message : String(err);
      throw new StoreError('STORE_NO_DATABASE', `cannot open the embedded store at ${path} (${message}): check DATA_DIR exists and is writable`);
    }
  }

  return {
    kind: 'embedded',

    init() {
      if (db) return Promise.resolve();
      opening ??= open().finally(() => (opening = undefined));
      return opening;
    },

    writeReadings: (readings) => write('writing readings', readingSteps(readings)),

    history(q: HistoryQuery) {
      return query('history query', () => {
        const { sql, params } = historySql(q);
        const rows = reader().prepare(sql).all(params) as HistoryRow[];
        const series = new Map<string, HistorySeries>();
        for (const row of rows) {
          let s = series.get(row.device);
          if (!s) series.set(row.device, (s = { device: row.device, buckets: [] }));
          const bucket: HistoryBucket = { ts: row.bucket, mean: row.mean, min: row.min, max: row.max, count: row.count };
          if (row.sum !== undefined) bucket.sum = row.sum;
          s.buckets.push(bucket);
        }
        return [...series.values()];
      });
    },

    latest(filter = {}) {
      return query('latest query', () => {
        const where = whereClause({ site: filter.site, zone: filter.zone, device: filter.device }, {});
        return reader()
          .prepare(`SELECT site, zone, kind, device, metric, value, ts FROM latest ${where.sql} ORDER BY device, metric`)
          .all(where.params) as LatestValue[];
      });
    },

    raw(q: RawQuery) {
      return query('raw query', () => {
        const where = whereClause({ metric: q.metric, site: q.site, zone: q.zone, device: q.device }, { from: q.from, to: q.to });
        return reader()
          .prepare(
            `SELECT site, zone, kind, device, metric, value, ts FROM readings ${where.sql}
             ORDER BY ts, device, metric LIMIT @limit`,
          )
          .all({ ...where.params, limit: q.limit ?? DEFAULT_RAW_LIMIT }) as RawPoint[];
      });
    },

    writeAlerts: (events) => write('writing alerts', [{ sql: INSERT_ALERT, rows: events.map((e) => [e.ts, e.site, JSON.stringify(e)]) }]),

    alerts(q: EventQuery) {
      return query('alerts query', () => {
        const where = whereClause({ site: q.site }, q);
        const rows = reader()
          .prepare(`SELECT json FROM alerts ${where.sql} ORDER BY ts DESC, seq DESC LIMIT @limit`)
          .all({ ...where.params, limit: q.limit ?? DEFAULT_EVENT_LIMIT }) as { json: string }[];
        return rows.map((r) => withAlertDefaults(JSON.parse(r.json) as AlertEvent));
      });
    },

    writeCommands: (records) => write('writing commands', [{ sql: INSERT_COMMAND, rows: records.map((c) => [c.ts, c.site, c.device, JSON.stringify(c)]) }]),

    commands(q) {
      return query('commands query', () => {
        const where = whereClause({ site: q.site, device: q.device }, q);
        const rows = reader()
          .prepare(`SELECT json FROM commands ${where.sql} ORDER BY ts DESC, seq DESC LIMIT @limit`)
          .all({ ...where.params, limit: q.limit ?? DEFAULT_EVENT_LIMIT }) as { json: string }[];
        return rows.map((r) => JSON.parse(r.json) as CommandRecord);
      });
    },

    writeTagReads: (reads) => write('writing tag reads', tagReadSteps(reads)),

    tagReads(q) {
      return query('tag reads query', () => {
        const where = whereClause({ tag: q.tag, site: q.site, zone: q.zone, device: q.device }, { from: q.from, to: q.to });
        const rows = reader()
          .prepare(`SELECT ${TAG_COLUMNS} FROM tag_reads ${where.sql} ORDER BY ts DESC, device DESC, tag LIMIT @limit`)
          .all({ ...where.params, limit: q.limit ?? DEFAULT_RAW_LIMIT }) as TagRow[];
        return rows.map(tagRead);
      });
    },

    tagPositions(since) {
      return query('tag positions query', () => {
        const positions = new Map<string, TagPosition>();
        for (const row of reader().prepare(`SELECT ${TAG_COLUMNS} FROM tag_last WHERE ts >= ?`).iterate(since) as IterableIterator<TagRow>)
          positions.set(row.tag, { tag: row.tag, last: tagRead(row) });
        for (const row of reader().prepare(`SELECT ${TAG_COLUMNS} FROM tag_last_gate WHERE ts >= ?`).iterate(since) as IterableIterator<TagRow>) {
          const p = positions.get(row.tag);
          if (p) p.lastGate = tagRead(row);
        }
        return [...positions.values()];
      });
    },

    async close() {
      if (!db || !writer) return;
      const [d, w] = [db, writer];
      db = undefined;
      writer = undefined;
      // The reader first, so the writer thread holds the last connection: its close checkpoints the WAL into
      // farm.db there, not on this thread. It waits for the writes still pending before it.
      d.close();
      try {
        // SQLite's recommendation for long-lived connections: refresh planner statistics on close.
        await w.close(['PRAGMA optimize']);
      } catch (err) {
        logger.warn({ path, err: (err as Error).message }, 'embedded store writer did not close cleanly; SQLite recovers the WAL at the next start');
      }
      logger.info({ path }, 'embedded store closed');
    },
  };
}

interface HistoryRow {
  device: string;
  bucket: number;
  mean: number;
  min: number;
  max: number;
  count: number;
  sum?: number;
}

/**
 * The history statement, exported so a test can check its query plan uses an index. Buckets of one hour or longer
 * in a zone other than UTC follow core/site-time.ts bucketStart (InfluxDB's tz() rule), written in SQL: the zone's
 * offset is a CASE over the stretches of constant offset around the range (one for Asia/Shanghai), the start is
 * the local-epoch truncation, moved by the offset difference at that start when it is smaller than the width.
 */
export function historySql(q: HistoryQuery): { sql: string; params: Record<string, string | number> } {
  const every = Math.trunc(q.everyMs);
  if (!(every > 0)) throw new StoreError('STORE_QUERY', `history bucket width must be a positive number of ms, got ${q.everyMs}`);
  const where = whereClause({ metric: q.metric, site: q.site, zone: q.zone, device: q.device }, { from: q.from, to: q.to });
  const sum = isIncrement(q.metric) ? ', sum(value) AS sum' : '';
  const aggregates = `avg(value) AS mean, min(value) AS min, max(value) AS max, count(*) AS count${sum}`;
  const zone = q.timeZone ?? 'UTC';
  if (zone === 'UTC' || every < LOCAL_BUCKETS_FROM_MS) {
    return {
      // better-sqlite3 binds JS numbers as REAL, so '/' would not floor; '%' works on integers.
      sql: `SELECT device, ts - (ts % @every) AS bucket, ${aggregates}
          FROM readings ${where.sql} GROUP BY device, bucket ORDER BY device, bucket`,
      params: { ...where.params, every },
    };
  }
  // Offsets from a day before the first possible bucket start to a day after the range.
  const segments = offsetSegments(zone, q.from - every - DAY_MS, q.to + DAY_MS);
  const offsetAt = (x: string) =>
    segments.length === 1
      ? String(segments[0].offsetMs)
      : `CASE ${segments
          .slice(0, -1)
          .map((s) => `WHEN ${x} < ${s.to} THEN ${s.offsetMs}`)
          .join(' ')} ELSE ${segments[segments.length - 1].offsetMs} END`;
  const bucket =
    segments.length === 1 ? `ts - ((ts + ${segments[0].offsetMs}) % @every)` : `raw + CASE WHEN z <> zr AND abs(z - zr) < @every THEN z - zr ELSE 0 END`;
  const source =
    segments.length === 1
      ? `readings ${where.sql}`
      : `(SELECT device, value, z, raw, ${offsetAt('raw')} AS zr FROM
           (SELECT device, value, z, ts - ((ts + z) % @every) AS raw FROM
             (SELECT device, value, ts, ${offsetAt('ts')} AS z FROM readings ${where.sql})))`;
  return {
    sql: `SELECT device, ${bucket} AS bucket, ${aggregates} FROM ${source} GROUP BY device, bucket ORDER BY device, bucket`,
    params: { ...where.params, every },
  };
}
