import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { influxCount, influxLastTs } from '../targets/influx.js';

/**
 * Looks into the store the service wrote, from outside the service: how many readings it holds (counted per
 * "count metric", a metric every reading of a device kind carries exactly once) and the newest stamp of one
 * device (for publish -> stored latency). The embedded store is opened read-only next to the running service
 * (SQLite WAL allows readers beside the writer); InfluxDB is asked over InfluxQL.
 */
export interface StoreProbe {
  readonly kind: 'embedded' | 'influx';
  count(): Promise<number>;
  lastTs(device: string, metric: string): Promise<number | undefined>;
  close(): void;
}

export function sqliteProbe(dataDir: string, countMetrics: readonly string[]): StoreProbe {
  const path = join(dataDir, 'farm.db');
  let db: Database.Database | undefined;
  const open = () => {
    if (db) return db;
    if (!existsSync(path)) throw new Error(`the service has not created ${path} yet`);
    db = new Database(path, { readonly: true, fileMustExist: true });
    return db;
  };
  let countStmt: Database.Statement | undefined;
  let lastStmt: Database.Statement | undefined;
  return {
    kind: 'embedded',
    async count() {
      countStmt ??= open().prepare(`SELECT count(*) AS n FROM readings WHERE metric IN (${countMetrics.map(() => '?').join(',')})`);
      return (countStmt.get(...countMetrics) as { n: number }).n;
    },
    async lastTs(device, metric) {
      lastStmt ??= open().prepare('SELECT max(ts) AS ts FROM readings WHERE device = ? AND metric = ?');
      const row = lastStmt.get(device, metric) as { ts: number | null };
      return row.ts ?? undefined;
    },
    close() {
      db?.close();
      db = undefined;
    },
  };
}

export function influxProbe(url: string, database: string, countMetrics: readonly string[]): StoreProbe {
  return {
    kind: 'influx',
    count: () => influxCount(url, database, countMetrics),
    lastTs: (device, metric) => influxLastTs(url, database, device, metric),
    close() {},
  };
}

/** Polls `count()` until it reaches `expected` or stops growing for `quietMs`; returns the final count. */
export async function waitForCount(
  probe: StoreProbe,
  expected: number,
  o: { quietMs: number; maxMs: number; onProgress?: (n: number) => void },
): Promise<number> {
  const deadline = Date.now() + o.maxMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = await probe.count();
    o.onProgress?.(n);
    if (n >= expected) return n;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > o.quietMs) return n;
    if (Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 500));
  }
}
