import type Database from 'better-sqlite3';

/**
 * Schema of the embedded store (farm.db). Readings are kept in long form, one row per
 * device+metric+instant, so a new metric never needs a migration and re-writing a reading replaces it.
 */
/** 2: ear-tag reads (tag_reads, tag_last, tag_last_gate); created alongside version 1's tables. */
export const SCHEMA_VERSION = 2;

export function applySchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS readings (
      ts INTEGER NOT NULL,
      site TEXT NOT NULL,
      zone TEXT NOT NULL,
      kind TEXT NOT NULL,
      device TEXT NOT NULL,
      metric TEXT NOT NULL,
      value REAL NOT NULL,
      PRIMARY KEY (device, metric, ts)
    ) WITHOUT ROWID;
    -- Range scans over one metric for the whole farm or one site (dashboard charts, rule dry runs);
    -- per-device ranges use the primary key.
    CREATE INDEX IF NOT EXISTS readings_metric_ts ON readings (metric, ts);
    CREATE INDEX IF NOT EXISTS readings_site_metric_ts ON readings (site, metric, ts);

    -- Latest value per device+metric, maintained on write so the device list costs O(devices), not a scan.
    CREATE TABLE IF NOT EXISTS latest (
      device TEXT NOT NULL,
      metric TEXT NOT NULL,
      site TEXT NOT NULL,
      zone TEXT NOT NULL,
      kind TEXT NOT NULL,
      ts INTEGER NOT NULL,
      value REAL NOT NULL,
      PRIMARY KEY (device, metric)
    ) WITHOUT ROWID;

    -- One alert has many events (raised, escalated, acknowledged, cleared): the row key is a sequence.
    CREATE TABLE IF NOT EXISTS alerts (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      ts INTEGER NOT NULL,
      site TEXT NOT NULL,
      json TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS alerts_ts ON alerts (ts);
    CREATE INDEX IF NOT EXISTS alerts_site_ts ON alerts (site, ts);

    CREATE TABLE IF NOT EXISTS commands (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      ts INTEGER NOT NULL,
      site TEXT NOT NULL,
      device TEXT NOT NULL,
      json TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS commands_ts ON commands (ts);
    CREATE INDEX IF NOT EXISTS commands_site_ts ON commands (site, ts);
    CREATE INDEX IF NOT EXISTS commands_device_ts ON commands (device, ts);

    -- Ear-tag reads, one row per tag and instant; the key makes a redelivered read one row (INSERT OR IGNORE).
    -- An animal's timeline is a range on the key's prefix (tag); a place's reads use the (site, ts) index.
    CREATE TABLE IF NOT EXISTS tag_reads (
      tag TEXT NOT NULL,
      device TEXT NOT NULL,
      ts INTEGER NOT NULL,
      site TEXT NOT NULL,
      zone TEXT NOT NULL,
      kind TEXT NOT NULL,
      direction TEXT,
      PRIMARY KEY (tag, device, ts)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS tag_reads_site_ts ON tag_reads (site, ts);
    CREATE INDEX IF NOT EXISTS tag_reads_device_ts ON tag_reads (device, ts);

    -- Newest read of each tag (any reader) and newest gate read, maintained on write, so a restart rebuilds
    -- 45,000 animals' places from one row each instead of a scan of their history.
    CREATE TABLE IF NOT EXISTS tag_last (
      tag TEXT PRIMARY KEY, ts INTEGER NOT NULL, site TEXT NOT NULL, zone TEXT NOT NULL, kind TEXT NOT NULL, device TEXT NOT NULL, direction TEXT
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS tag_last_gate (
      tag TEXT PRIMARY KEY, ts INTEGER NOT NULL, site TEXT NOT NULL, zone TEXT NOT NULL, kind TEXT NOT NULL, device TEXT NOT NULL, direction TEXT
    ) WITHOUT ROWID;
  `);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

/** WHERE clause over optional equality filters plus a [from,to) time range, with named parameters. */
export function whereClause(
  eq: Record<string, string | undefined>,
  range: { from?: number; to?: number },
): { sql: string; params: Record<string, string | number> } {
  const parts: string[] = [];
  const params: Record<string, string | number> = {};
  for (const [column, value] of Object.entries(eq)) {
    if (value === undefined) continue;
    parts.push(`${column} = @${column}`);
    params[column] = value;
  }
  if (range.from !== undefined) {
    parts.push('ts >= @from');
    params.from = range.from;
  }
  if (range.to !== undefined) {
    parts.push('ts < @to');
    params.to = range.to;
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}
