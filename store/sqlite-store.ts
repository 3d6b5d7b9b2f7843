import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { AlertEvent, Reading } from '../core/domain.js';
import { DEFAULT_EVENT_LIMIT, DEFAULT_RAW_LIMIT } from './defaults.js';
import { applySchema, whereClause } from './sqlite-schema.js';
import {
  StoreError,
  type CommandRecord,
  type EventQuery,
  type HistoryQuery,
  type HistorySeries,
  type LatestValue,
  type RawPoint,
  type RawQuery,
  type Store,
} from './store.js';

/** The embedded store: one SQLite file under DATA_DIR, used when INFLUX_URL is not set. */
export interface SqliteStoreOptions {
  dataDir: string;
  logger: Logger;
}

export function createSqliteStore(options: SqliteStoreOptions): Store {
  const path = join(options.dataDir, 'farm.db');
  const logger = options.logger.child({ store: 'embedded' });
  let db: Database.Database | undefined;
  let statements: ReturnType<typeof prepare> | undefined;

  function prepare(d: Database.Database) {
    return {
      // INSERT OR REPLACE on the (device, metric, ts) key: a device resending after a lost PUBACK is harmless.
      reading: d.prepare(
        'INSERT OR REPLACE INTO readings (ts, site, zone, kind, device, metric, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      // Only a newer (or equally new, replaced) reading moves "latest": late store-and-forward batches must not.
      latest: d.prepare(`
        INSERT INTO latest (device, metric, site, zone, kind, ts, value) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (device, metric) DO UPDATE SET
          site = excluded.site, zone = excluded.zone, kind = excluded.kind, ts = excluded.ts, value = excluded.value
        WHERE excluded.ts >= latest.ts`),
      alert: d.prepare('INSERT INTO alerts (ts, site, json) VALUES (?, ?, ?)'),
      command: d.prepare('INSERT INTO commands (ts, site, device, json) VALUES (?, ?, ?, ?)'),
    };
  }

  function open(): { db: Database.Database; st: ReturnType<typeof prepare> } {
    if (!db || !statements) throw new StoreError('STORE_QUERY', `embedded store ${path} is not open: call init() first`);
    return { db, st: statements };
  }

  /** better-sqlite3 is synchronous: wrap each call so failures surface as typed StoreErrors. */
  function run<T>(code: 'STORE_WRITE' | 'STORE_QUERY', what: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      if (err instanceof StoreError) return Promise.reject(err);
      const message = err instanceof Error ? err.message : String(err);
      // SQLITE_BUSY / SQLITE_FULL / IOERR are conditions that can pass (another process, disk space freed).
      const retryable = /BUSY|LOCKED|FULL|IOERR/.test((err as { code?: string }).code ?? '');
      return Promise.reject(new StoreError(code, `embedded store ${path}: ${what} failed: ${message}`, retryable));
    }
  }

  const writeBatch = (readings: Reading[]) => {
    const { db: d, st } = open();
    // "latest" needs one upsert per device and metric, not one per reading: a batch of a chatty device's
    // readings would otherwise rewrite the same row hundreds of times (it was a tenth of the write cost).
    const newest = new Map<string, { r: Reading; metric: string; value: number }>();
    d.transaction(() => {
      for (const r of readings) {
        for (const metric in r.metrics) {
          const value = r.metrics[metric];
          st.reading.run(r.ts, r.site, r.zone, r.kind, r.device, metric, value);
          const key = `${r.device}\u0000${metric}`;
          const seen = newest.get(key);
          if (!seen || r.ts >= seen.r.ts) newest.set(key, { r, metric, value });
        }
      }
      for (const { r, metric, value } of newest.values()) st.latest.run(r.device, metric, r.site, r.zone, r.kind, r.ts, value);
    })();
  };

  return {
    kind: 'embedded',

    async init() {
      if (db) return;
      try {
        mkdirSync(options.dataDir, { recursive: true });
        const d = new Database(path);
        // WAL lets the dashboard read while ingest writes. FULL fsyncs every commit: a commit is the moment a
        // QoS 1 reading is acknowledged, and a device forgets what was acknowledged, so NORMAL (sync at
        // checkpoints only) could lose acknowledged readings on a power cut. Ingest group-commits, so this is
        // one fsync per batch (BATCH_INTERVAL), not per reading.
        d.pragma('journal_mode = WAL');
        d.pragma('synchronous = FULL');
        d.pragma('busy_timeout = 5000');
        applySchema(d);
        db = d;
        statements = prepare(d);
        logger.info({ path }, 'embedded store open');
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new StoreError('STORE_NO_DATABASE', `cannot open the embedded store at ${path} (${message}): check DATA_DIR exists and is writable`);
      }
    },

    writeReadings: (readings) => run('STORE_WRITE', 'writing readings', () => writeBatch(readings)),

    history(q: HistoryQuery) {
      return run('STORE_QUERY', 'history query', () => {
        const { sql, params } = historySql(q);
        const rows = open().db.prepare(sql).all(params) as HistoryRow[];
        const series = new Map<string, HistorySeries>();
        for (const row of rows) {
          let s = series.get(row.device);
          if (!s) series.set(row.device, (s = { device: row.device, buckets: [] }));
          s.buckets.push({ ts: row.bucket, mean: row.mean, min: row.min, max: row.max, count: row.count });
        }
        return [...series.values()];
      });
    },

    latest(filter = {}) {
      return run('STORE_QUERY', 'latest query', () => {
        const where = whereClause({ site: filter.site, zone: filter.zone, device: filter.device }, {});
        return open()
          .db.prepare(`SELECT site, zone, kind, device, metric, value, ts FROM latest ${where.sql} ORDER BY device, metric`)
          .all(where.params) as LatestValue[];
      });
    },

    raw(q: RawQuery) {
      return run('STORE_QUERY', 'raw query', () => {
        const where = whereClause({ metric: q.metric, site: q.site, zone: q.zone, device: q.device }, { from: q.from, to: q.to });
        return open()
          .db.prepare(
            `SELECT site, zone, kind, device, metric, value, ts FROM readings ${where.sql}
             ORDER BY ts, device, metric LIMIT @limit`,
          )
          .all({ ...where.params, limit: q.limit ?? DEFAULT_RAW_LIMIT }) as RawPoint[];
      });
    },

    writeAlerts: (events) =>
      run('STORE_WRITE', 'writing alerts', () => {
        const { db: d, st } = open();
        d.transaction(() => events.forEach((e) => st.alert.run(e.ts, e.site, JSON.stringify(e))))();
      }),

    alerts(q: EventQuery) {
      return run('STORE_QUERY', 'alerts query', () => {
        const where = whereClause({ site: q.site }, q);
        const rows = open()
          .db.prepare(`SELECT json FROM alerts ${where.sql} ORDER BY ts DESC, seq DESC LIMIT @limit`)
          .all({ ...where.params, limit: q.limit ?? DEFAULT_EVENT_LIMIT }) as { json: string }[];
        return rows.map((r) => JSON.parse(r.json) as AlertEvent);
      });
    },

    writeCommands: (records) =>
      run('STORE_WRITE', 'writing commands', () => {
        const { db: d, st } = open();
        d.transaction(() => records.forEach((c) => st.command.run(c.ts, c.site, c.device, JSON.stringify(c))))();
      }),

    commands(q) {
      return run('STORE_QUERY', 'commands query', () => {
        const where = whereClause({ site: q.site, device: q.device }, q);
        const rows = open()
          .db.prepare(`SELECT json FROM commands ${where.sql} ORDER BY ts DESC, seq DESC LIMIT @limit`)
          .all({ ...where.params, limit: q.limit ?? DEFAULT_EVENT_LIMIT }) as { json: string }[];
        return rows.map((r) => JSON.parse(r.json) as CommandRecord);
      });
    },

    async close() {
      if (!db) return;
      const d = db;
      db = undefined;
      statements = undefined;
      // SQLite's recommendation for long-lived connections: refresh planner statistics on close.
      d.pragma('optimize');
      d.close();
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
}

/** The history statement, exported so a test can check its query plan uses an index. */
export function historySql(q: HistoryQuery): { sql: string; params: Record<string, string | number> } {
  const every = Math.trunc(q.everyMs);
  if (!(every > 0)) throw new StoreError('STORE_QUERY', `history bucket width must be a positive number of ms, got ${q.everyMs}`);
  const where = whereClause({ metric: q.metric, site: q.site, zone: q.zone, device: q.device }, { from: q.from, to: q.to });
  return {
    // better-sqlite3 binds JS numbers as REAL, so '/' would not floor; '%' works on integers.
    sql: `SELECT device, ts - (ts % @every) AS bucket, avg(value) AS mean, min(value) AS min, max(value) AS max, count(*) AS count
          FROM readings ${where.sql} GROUP BY device, bucket ORDER BY device, bucket`,
    params: { ...where.params, every },
  };
}
