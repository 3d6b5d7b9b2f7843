import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteWriter, SqliteWriteError, type SqliteWriter } from '../../store/sqlite-writer.js';
import { StoreError } from '../../store/store.js';
import { watchEventLoop } from '../helpers/event-loop.js';

const INSERT = 'INSERT INTO t (k, v) VALUES (?, ?)';
const PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 200'];
const DYING_WORKER = new URL('./fixtures/dying-sqlite-writer.mjs', import.meta.url);

describe('SQLite writer thread', () => {
  let dir: string;
  let path: string;
  let writer: SqliteWriter | undefined;
  const rows = () => {
    const db = new Database(path, { readonly: true });
    const all = db.prepare('SELECT seq, k, v FROM t ORDER BY seq').all() as { seq: number; k: string; v: string }[];
    db.close();
    return all;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'farm-writer-'));
    path = join(dir, 'test.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL UNIQUE, v TEXT NOT NULL)');
    db.close();
  });
  afterEach(async () => {
    await writer?.close().catch(() => {});
    writer = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const open = (workerUrl?: URL) => (writer = createSqliteWriter({ path, label: `test store ${path}`, pragmas: PRAGMAS, workerUrl }));

  it('runs a step given as one flat array of parameters once per row, in the transaction with the others', async () => {
    const w = open();
    const [flat, rowwise] = await w.transaction([
      { sql: INSERT, flat: ['a', '1', 'b', '2', 'c', '3'], width: 2 },
      { sql: INSERT, rows: [['d', '4']] },
    ]);
    expect(flat.changes).toBe(3);
    expect(rowwise.changes).toBe(1);
    expect(rows().map((r) => [r.k, r.v])).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['d', '4'],
    ]);
    // A failing row rolls back the whole transaction, flat rows included.
    await expect(w.transaction([{ sql: INSERT, flat: ['e', '5', 'a', 'again'], width: 2 }])).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(rows()).toHaveLength(4);
  });

  it('runs a step given as a table of numbers (strings by index) or as lines, once per row, and moves the table over', async () => {
    const w = open();
    const numbers = new Float64Array([0, 10, 1, 20.5, 2, 30]);
    const [table, lines] = await w.transaction([
      { sql: INSERT, numbers, width: 2, strings: ['x', 'y', 'z'], stringColumns: [0] },
      { sql: 'INSERT INTO t (v, k) VALUES (?, ?)', lines: 'l1\nl2', before: ['from lines'] },
    ]);
    expect(table.changes).toBe(3);
    expect(lines).toMatchObject({ changes: 2, lastRowid: 5 });
    // Handed over, not copied: the buffer is no longer the caller's.
    expect(numbers.length).toBe(0);
    // Numbers of a table are bound as REAL: a TEXT column shows 10.0 (an INTEGER column, such as readings.ts, stores an integer).
    expect(rows().map((r) => [r.k, r.v])).toEqual([
      ['x', '10.0'],
      ['y', '20.5'],
      ['z', '30.0'],
      ['l1', 'from lines'],
      ['l2', 'from lines'],
    ]);
  });

  it('commits transactions in the order they were made, and each is visible to another connection once it resolves', async () => {
    const w = open();
    const done = Array.from({ length: 200 }, (_, i) => w.transaction([{ sql: INSERT, rows: [[`k${i}`, `first-${i}`]] }]));
    // An upsert made after them must land after them.
    done.push(w.transaction([{ sql: 'INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)', rows: [['k7', 'replaced']] }]));
    expect(w.pending()).toBe(201);
    await Promise.all(done);
    expect(w.pending()).toBe(0);
    const stored = rows();
    expect(stored).toHaveLength(200);
    expect(stored.slice(0, 7).map((r) => r.k)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    expect(stored.find((r) => r.k === 'k7')?.v).toBe('replaced');
    expect(stored.at(-1)?.k).toBe('k7'); // REPLACE deletes and re-inserts: the newest seq
  });

  it('returns what a SELECT inside the transaction saw, and how many rows each statement changed', async () => {
    const w = open();
    await w.transaction([
      {
        sql: INSERT,
        rows: [
          ['a', '1'],
          ['b', '2'],
          ['c', '3'],
        ],
      },
    ]);
    const [seen, deleted] = await w.transaction([
      { sql: 'SELECT k FROM t WHERE v <= ? ORDER BY k', rows: [['2']], all: true },
      { sql: 'DELETE FROM t WHERE v <= ?', rows: [['2']] },
    ]);
    expect(seen.rows).toEqual([{ k: 'a' }, { k: 'b' }]);
    expect(deleted.changes).toBe(2);
    expect(rows().map((r) => r.k)).toEqual(['c']);
  });

  it('rolls back the whole transaction when one row fails, with SQLite’s code, and keeps writing afterwards', async () => {
    const w = open();
    await w.transaction([{ sql: INSERT, rows: [['dup', 'x']] }]);
    const failed = w.transaction([
      { sql: INSERT, rows: [['new-1', 'x']] },
      {
        sql: INSERT,
        rows: [
          ['new-2', 'x'],
          ['dup', 'again'],
        ],
      },
    ]);
    await expect(failed).rejects.toBeInstanceOf(SqliteWriteError);
    await expect(failed).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE', message: expect.stringContaining('UNIQUE constraint failed') });
    await w.transaction([{ sql: INSERT, rows: [['after', 'x']] }]);
    expect(rows().map((r) => r.k)).toEqual(['dup', 'after']);
  });

  it('reports a file locked by another process as SQLITE_BUSY without stalling the event loop while it waits', async () => {
    const w = open();
    await w.transaction([]);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const loop = watchEventLoop();
    const started = performance.now();
    await expect(w.transaction([{ sql: INSERT, rows: [['locked', 'x']] }])).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    const waitedMs = performance.now() - started;
    const longestGapMs = loop.stop();
    other.exec('ROLLBACK');
    other.close();
    expect(waitedMs).toBeGreaterThanOrEqual(150); // busy_timeout = 200: the thread did wait for the lock ...
    expect(longestGapMs).toBeLessThan(waitedMs); // ... and timers kept firing on this thread meanwhile
    await w.transaction([{ sql: INSERT, rows: [['unlocked', 'x']] }]);
    expect(rows().map((r) => r.k)).toEqual(['unlocked']);
  });

  it('close() waits for the writes still pending, then refuses new ones with a clear error', async () => {
    const w = open();
    const pending = Array.from({ length: 50 }, (_, i) => w.transaction([{ sql: INSERT, rows: [[`k${i}`, 'x']] }]));
    await w.close(['PRAGMA optimize']);
    await Promise.all(pending);
    expect(rows()).toHaveLength(50);
    const late = w.transaction([{ sql: INSERT, rows: [['late', 'x']] }]);
    await expect(late).rejects.toBeInstanceOf(StoreError);
    await expect(late).rejects.toMatchObject({ code: 'STORE_WRITE', message: expect.stringContaining(`test store ${path} is closed`) });
    await w.close(); // again: nothing to do
  });

  it('a thread that dies rejects every write it had not confirmed with a retryable StoreError, and the next write gets a new thread', async () => {
    const w = open(DYING_WORKER);
    await w.transaction([{ sql: INSERT, rows: [['before', 'x']] }]);
    const dying = w.transaction([{ sql: 'DIE', rows: [] }]);
    const behind = w.transaction([{ sql: INSERT, rows: [['behind', 'x']] }]);
    for (const p of [dying, behind]) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: 'STORE_WRITE', retryable: true });
      expect((err as Error).message).toContain(`test store ${path}: the SQLite writer thread stopped (simulated crash of the writer thread)`);
    }
    expect(w.pending()).toBe(0);
    await expect(w.transaction([{ sql: INSERT, rows: [['after', 'x']] }])).resolves.toEqual([{ changes: 0, rows: [] }]);
  });

  it('a thread that cannot open the file fails the waiting writes with SQLite’s reason instead of hanging them', async () => {
    const missing = join(dir, 'no-such-dir', 'x.db');
    writer = createSqliteWriter({ path: missing, label: `test store ${missing}`, pragmas: PRAGMAS });
    await expect(writer.transaction([])).rejects.toMatchObject({
      code: 'STORE_WRITE',
      message: expect.stringMatching(/writer thread stopped \(.*directory does not exist/),
    });
  });

  const runAlone = (mode: 'forget' | 'close') => {
    const script = fileURLToPath(new URL('./fixtures/write-and-exit.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script, path, mode], { encoding: 'utf8', timeout: 30_000 });
    expect(child.error, 'the process did not exit on its own').toBeUndefined();
    expect(child.status, child.stderr).toBe(0);
    return child.stdout;
  };

  it('keeps a process alive until its last write is committed, and does not keep an idle one alive', () => {
    expect(runAlone('forget')).toContain('committed');
    expect(rows().map((r) => r.v)).toEqual(['written (forget)']);
  });

  it('lets close() finish before a process with nothing else to do exits', () => {
    expect(runAlone('close')).toBe('committed\nclosed\n');
    expect(rows().map((r) => r.v)).toEqual(['written (close)']);
  });
});
