import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteWriter, durablePragmas, type StepResult, type WriteStep } from '../../store/sqlite-writer.js';
import { StoreError } from '../../store/store.js';

/**
 * Who may get in and what people did: login sessions, display tokens, share links and the audit log, in one
 * SQLite file (DATA_DIR/access.db). Tokens are kept only as SHA-256 hashes. Reads are indexed lookups on a
 * query-only connection here; writes go through a writer thread (store/sqlite-writer.ts) and resolve once
 * committed and fsynced, so a session handed out or an audit entry written survives a crash or power cut, and
 * no fsync ever holds up the event loop.
 * Without a data directory (tests, a throwaway dashboard) the file lives in a temporary directory that is
 * removed at close: everything then lasts as long as the process.
 */
export interface AccessDb {
  readonly path: string;
  /** Prepared statements on the query-only connection, cached by SQL text. */
  get<T>(sql: string, params?: Record<string, unknown> | unknown[]): T | undefined;
  all<T>(sql: string, params?: Record<string, unknown> | unknown[]): T[];
  /** One transaction in the writer thread; `what` names it in errors. */
  write(what: string, steps: readonly WriteStep[]): Promise<StepResult[]>;
  close(): Promise<void>;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,            -- SHA-256 of the token
    user TEXT NOT NULL,
    stamp TEXT NOT NULL,            -- the user's role, sites and password as of login (hashed): a change ends the session
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);
  CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);

  CREATE TABLE IF NOT EXISTS displays (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    sites TEXT,                     -- JSON array; NULL = every site
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,             -- NULL = until revoked
    revoked_at INTEGER,
    revoked_by TEXT,
    last_used_at INTEGER,
    uses INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE IF NOT EXISTS shares (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    site TEXT NOT NULL,
    zone TEXT NOT NULL,
    metrics TEXT,                   -- JSON array; NULL = every metric of the zone
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_by TEXT,
    last_used_at INTEGER,
    uses INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS shares_site ON shares (site, created_at);

  CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    address TEXT,
    action TEXT NOT NULL,
    site TEXT,
    target TEXT,
    outcome TEXT NOT NULL,
    status INTEGER,
    detail TEXT                     -- JSON object
  );
  CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
  CREATE INDEX IF NOT EXISTS audit_actor_ts ON audit (actor, ts);
`;

export function openAccessDb(options: { dataDir?: string; busyTimeoutMs?: number }): AccessDb {
  const temporary = options.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'farm-access-'));
  const dir = options.dataDir ?? temporary!;
  const path = join(dir, 'access.db');
  const pragmas = durablePragmas(options.busyTimeoutMs ?? 5000);
  let db: Database.Database;
  try {
    mkdirSync(dir, { recursive: true });
    db = new Database(path);
    for (const pragma of pragmas) db.pragma(pragma);
    db.exec(SCHEMA);
    db.pragma('query_only = ON');
  } catch (err) {
    throw new StoreError('STORE_NO_DATABASE', `cannot open ${path} (${(err as Error).message}): check that DATA_DIR exists and is writable`);
  }
  const writer = createSqliteWriter({ path, label: `access database ${path}`, pragmas });
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare(sql)));
    return s;
  };
  const query = <T>(sql: string, run: (s: Database.Statement) => T): T => {
    try {
      return run(prepared(sql));
    } catch (err) {
      throw new StoreError('STORE_QUERY', `access database ${path}: ${(err as Error).message}`, true);
    }
  };
  let closed = false;

  return {
    path,
    get: <T>(sql: string, params: Record<string, unknown> | unknown[] = []) => query(sql, (s) => s.get(params) as T | undefined),
    all: <T>(sql: string, params: Record<string, unknown> | unknown[] = []) => query(sql, (s) => s.all(params) as T[]),
    async write(what, steps) {
      try {
        return await writer.transaction(steps);
      } catch (err) {
        if (err instanceof StoreError) throw err;
        throw new StoreError(
          'STORE_WRITE',
          `access database ${path}: ${what} failed (${(err as Error).message}): check that DATA_DIR is writable and has space`,
          true,
        );
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
      await writer.close(['PRAGMA optimize']).catch(() => {});
      if (temporary) rmSync(temporary, { recursive: true, force: true });
    },
  };
}
