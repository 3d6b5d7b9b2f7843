import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Reading } from '../core/domain.js';

/**
 * A durable queue of readings on their way to InfluxDB: they survive an InfluxDB outage and a restart of
 * this service. One row per reading, numbered in arrival order; rows leave only from the front, either
 * delivered (remove) or set aside as undeliverable (deadLetter).
 */
export interface OutboxEntry {
  seq: number;
  reading: Reading;
}

export interface Outbox {
  /** Synchronous and atomic: once it returns, the readings are on disk. */
  append(readings: Reading[]): void;
  /** The oldest `n` entries, in order, without removing them. */
  peek(n: number): OutboxEntry[];
  /** Removes every entry up to and including `upToSeq` (delivered). */
  remove(upToSeq: number): void;
  /** Moves entries up to `upToSeq` to the dead table with the reason; they stay inspectable, never retried. */
  deadLetter(upToSeq: number, reason: string): number;
  depth(): number;
  /** How long the oldest waiting entry has waited; 0 when empty. */
  oldestAgeMs(now: number): number;
  deadCount(): number;
  close(): void;
}

export function createOutbox(options: { dataDir: string; logger: Logger; clock?: { now(): number } }): Outbox {
  mkdirSync(options.dataDir, { recursive: true });
  const path = join(options.dataDir, 'outbox.db');
  const now = () => options.clock?.now() ?? Date.now();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // FULL, not NORMAL: append() is the moment a reading is acknowledged as stored (the device gets its PUBACK
  // and forgets it). NORMAL could lose the last commits on power loss, which is common on a farm; FULL
  // fsyncs the WAL on every commit, and ingest batches readings so that is a few fsyncs a second.
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      appended_at INTEGER NOT NULL,
      json TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS dead (
      seq INTEGER PRIMARY KEY,
      appended_at INTEGER NOT NULL,
      failed_at INTEGER NOT NULL,
      reason TEXT NOT NULL,
      json TEXT NOT NULL
    );
  `);
  const insert = db.prepare('INSERT INTO outbox (appended_at, json) VALUES (?, ?)');
  const select = db.prepare('SELECT seq, json FROM outbox ORDER BY seq LIMIT ?');
  const del = db.prepare('DELETE FROM outbox WHERE seq <= ?');
  const toDead = db.prepare(
    'INSERT OR REPLACE INTO dead (seq, appended_at, failed_at, reason, json) SELECT seq, appended_at, ?, ?, json FROM outbox WHERE seq <= ?',
  );
  const oldest = db.prepare('SELECT appended_at FROM outbox ORDER BY seq LIMIT 1');
  const countDead = db.prepare('SELECT count(*) AS n FROM dead');

  // count(*) is a full scan; after one at open the depth is kept in memory (only this process writes the file).
  let depth = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  if (depth > 0) options.logger.info({ path, depth }, 'outbox holds readings from before the restart; they will be sent first');

  const appendAll = db.transaction((readings: Reading[]) => {
    const at = now();
    for (const r of readings) insert.run(at, JSON.stringify(r));
  });
  const deadAll = db.transaction((upToSeq: number, reason: string) => {
    toDead.run(now(), reason, upToSeq);
    return del.run(upToSeq).changes;
  });

  return {
    append(readings) {
      if (readings.length === 0) return;
      appendAll(readings);
      depth += readings.length;
    },
    peek(n) {
      return (select.all(n) as { seq: number; json: string }[]).map((r) => ({ seq: r.seq, reading: JSON.parse(r.json) as Reading }));
    },
    remove(upToSeq) {
      depth -= del.run(upToSeq).changes;
    },
    deadLetter(upToSeq, reason) {
      const moved = deadAll(upToSeq, reason);
      depth -= moved;
      return moved;
    },
    depth: () => depth,
    oldestAgeMs(at) {
      const row = oldest.get() as { appended_at: number } | undefined;
      return row ? Math.max(0, at - row.appended_at) : 0;
    },
    deadCount: () => (countDead.get() as { n: number }).n,
    close() {
      if (db.open) db.close();
    },
  };
}
