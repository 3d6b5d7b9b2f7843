import type { Logger } from 'pino';
import type { AccessDb } from './db.js';

/**
 * "Last used" of share links and display tokens, written at most once a minute per token: a phone refreshing a
 * share page or every request of a wall display must not each cost a durable write. Uses are counted in memory
 * between writes. A failed write is logged and counted again with the next use.
 */
export interface LastUse {
  used(id: string): void;
}

const SQL = {
  shares: 'UPDATE shares SET last_used_at = ?, uses = uses + ? WHERE id = ?',
  displays: 'UPDATE displays SET last_used_at = ?, uses = uses + ? WHERE id = ?',
} as const;

export function createLastUse(deps: { db: AccessDb; logger: Logger; now: () => number }, table: keyof typeof SQL, everyMs = 60_000): LastUse {
  const written = new Map<string, number>();
  const unwritten = new Map<string, number>();
  return {
    used(id) {
      unwritten.set(id, (unwritten.get(id) ?? 0) + 1);
      const t = deps.now();
      if (t - (written.get(id) ?? -Infinity) < everyMs) return;
      written.set(id, t);
      const uses = unwritten.get(id) ?? 1;
      unwritten.delete(id);
      deps.db.write(`recording the last use of ${table} ${id}`, [{ sql: SQL[table], rows: [[t, uses, id]] }]).catch((err: Error) => {
        written.delete(id);
        unwritten.set(id, (unwritten.get(id) ?? 0) + uses);
        deps.logger.warn({ err: err.message, table, id }, 'could not record a last use; it is written with the next use');
      });
    },
  };
}
