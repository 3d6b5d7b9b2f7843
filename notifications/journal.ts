import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { AlertEvent } from '../core/domain.js';
import type { SendReason, Tracked } from './lifecycle.js';
import type { RenderedMessage } from './message.js';
import type { Silence } from './silences.js';

/**
 * What the notifications component must not forget across a restart, in one SQLite file (DATA_DIR/notifications.db):
 * each alert's notification state (its repeat and escalation times), the silences, and every delivery with its
 * items, attempts and outcome. Writes are synchronous and small (a few rows per alert event, one transaction per
 * batch of events), WAL with synchronous=FULL like the store, so what a restart must find is on disk.
 */
export type DeliveryStatus = 'grouping' | 'queued' | 'retrying' | 'sent' | 'failed' | 'silenced';

export interface DeliveryItem {
  alertId: string;
  reason: SendReason;
  alert: AlertEvent;
  since: number;
}

export interface Delivery {
  id: number;
  channel: string;
  site?: string;
  kind: 'alerts' | 'test';
  status: DeliveryStatus;
  createdAt: number;
  /** While grouping: when it goes out. */
  sendAfter?: number;
  attempts: number;
  lastAttemptAt?: number;
  nextAttemptAt?: number;
  sentAt?: number;
  error?: string;
  /** The silence that held it back (status silenced). */
  silence?: string;
  /** Rendered when grouping ends; what every attempt sends. */
  message?: RenderedMessage;
  items: DeliveryItem[];
}

export interface DeliveryQuery {
  alert?: string;
  channel?: string;
  from?: number;
  to?: number;
  limit?: number;
}

type Row = {
  id: number;
  channel: string;
  site: string | null;
  kind: 'alerts' | 'test';
  status: DeliveryStatus;
  created_at: number;
  send_after: number | null;
  attempts: number;
  last_attempt_at: number | null;
  next_attempt_at: number | null;
  sent_at: number | null;
  error: string | null;
  silence: string | null;
  message: string | null;
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS tracked (alert_id TEXT PRIMARY KEY, json TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, ends_at INTEGER NOT NULL, json TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    site TEXT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    send_after INTEGER,
    flushed_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    next_attempt_at INTEGER,
    sent_at INTEGER,
    error TEXT,
    silence TEXT,
    message TEXT
  );
  CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries (status, channel);
  CREATE INDEX IF NOT EXISTS deliveries_created ON deliveries (created_at);
  CREATE INDEX IF NOT EXISTS deliveries_group ON deliveries (site, channel, flushed_at);
  CREATE TABLE IF NOT EXISTS delivery_items (
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    alert_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    since INTEGER NOT NULL,
    alert TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS delivery_items_delivery ON delivery_items (delivery_id);
  CREATE INDEX IF NOT EXISTS delivery_items_alert ON delivery_items (alert_id);
`;

const undef = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export type Journal = ReturnType<typeof openJournal>;

/** Opens (creating when missing) the journal at `path`; `:memory:` keeps it for the life of the process. */
export function openJournal(path: string) {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  for (const p of ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000', 'foreign_keys = ON']) db.pragma(p);
  db.exec(SCHEMA);
  const q = {
    trackedAll: db.prepare<[], { json: string }>('SELECT json FROM tracked'),
    trackedPut: db.prepare('INSERT OR REPLACE INTO tracked (alert_id, json) VALUES (?, ?)'),
    trackedDel: db.prepare('DELETE FROM tracked WHERE alert_id = ?'),
    silencesAll: db.prepare<[number], { json: string }>('SELECT json FROM silences WHERE ends_at >= ? ORDER BY ends_at'),
    silencePut: db.prepare('INSERT OR REPLACE INTO silences (id, ends_at, json) VALUES (?, ?, ?)'),
    silencesPrune: db.prepare('DELETE FROM silences WHERE ends_at < ?'),
    openGroup: db.prepare<[string | null, string], Row>("SELECT * FROM deliveries WHERE status = 'grouping' AND site IS ? AND channel = ? ORDER BY id LIMIT 1"),
    lastFlush: db.prepare<[string | null, string], { t: number | null }>('SELECT MAX(flushed_at) AS t FROM deliveries WHERE site IS ? AND channel = ?'),
    insert: db.prepare(
      'INSERT INTO deliveries (channel, site, kind, status, created_at, send_after, silence, message, flushed_at) VALUES (@channel, @site, @kind, @status, @created_at, @send_after, @silence, @message, @flushed_at)',
    ),
    insertItem: db.prepare('INSERT INTO delivery_items (delivery_id, alert_id, reason, since, alert) VALUES (?, ?, ?, ?, ?)'),
    items: db.prepare<[number], { alert_id: string; reason: SendReason; since: number; alert: string }>(
      'SELECT alert_id, reason, since, alert FROM delivery_items WHERE delivery_id = ? ORDER BY rowid',
    ),
    dueGroups: db.prepare<[number], Row>("SELECT * FROM deliveries WHERE status = 'grouping' AND send_after <= ? ORDER BY id"),
    flushed: db.prepare("UPDATE deliveries SET status = 'queued', message = ?, flushed_at = ? WHERE id = ?"),
    remove: db.prepare('DELETE FROM deliveries WHERE id = ?'),
    nextToSend: db.prepare<[string, number], Row>(
      "SELECT * FROM deliveries WHERE channel = ? AND status IN ('queued', 'retrying') AND COALESCE(next_attempt_at, 0) <= ? ORDER BY id LIMIT 1",
    ),
    waitingChannels: db.prepare<[], { channel: string }>("SELECT DISTINCT channel FROM deliveries WHERE status IN ('queued', 'retrying')"),
    attempt: db.prepare(
      'UPDATE deliveries SET status = @status, attempts = @attempts, last_attempt_at = @last_attempt_at, next_attempt_at = @next_attempt_at, sent_at = @sent_at, error = @error WHERE id = @id',
    ),
    byId: db.prepare<[number], Row>('SELECT * FROM deliveries WHERE id = ?'),
    dropItems: db.prepare('DELETE FROM delivery_items WHERE delivery_id = ?'),
    prune: db.prepare("DELETE FROM deliveries WHERE created_at < ? AND status IN ('sent', 'failed', 'silenced')"),
  };

  function toDelivery(r: Row): Delivery {
    return {
      id: r.id,
      channel: r.channel,
      site: undef(r.site),
      kind: r.kind,
      status: r.status,
      createdAt: r.created_at,
      sendAfter: undef(r.send_after),
      attempts: r.attempts,
      lastAttemptAt: undef(r.last_attempt_at),
      nextAttemptAt: undef(r.next_attempt_at),
      sentAt: undef(r.sent_at),
      error: undef(r.error),
      silence: undef(r.silence),
      message: r.message ? (JSON.parse(r.message) as RenderedMessage) : undefined,
      items: q.items.all(r.id).map((i) => ({ alertId: i.alert_id, reason: i.reason, since: i.since, alert: JSON.parse(i.alert) as AlertEvent })),
    };
  }

  return {
    transaction<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
    tracked: (): Tracked[] => q.trackedAll.all().map((r) => JSON.parse(r.json) as Tracked),
    putTracked: (t: Tracked) => void q.trackedPut.run(t.alert.id, JSON.stringify(t)),
    dropTracked: (alertId: string) => void q.trackedDel.run(alertId),
    /** Silences not ended before `since` (the API lists ended ones for a while). */
    silences: (since: number): Silence[] => q.silencesAll.all(since).map((r) => JSON.parse(r.json) as Silence),
    putSilence: (s: Silence) => void q.silencePut.run(s.id, Math.min(s.endsAt, s.endedAt ?? Infinity), JSON.stringify(s)),
    /** The delivery still collecting alerts for (site, channel), if any. */
    openGroup: (site: string | undefined, channel: string): Delivery | undefined => {
      const r = q.openGroup.get(site ?? null, channel);
      return r ? toDelivery(r) : undefined;
    },
    lastFlushAt: (site: string | undefined, channel: string): number | undefined => undef(q.lastFlush.get(site ?? null, channel)?.t ?? null),
    create(d: {
      channel: string;
      site?: string;
      kind: Delivery['kind'];
      status: DeliveryStatus;
      createdAt: number;
      sendAfter?: number;
      silence?: string;
      message?: RenderedMessage;
    }): number {
      const flushedAt = d.status === 'queued' ? d.createdAt : null;
      const info = q.insert.run({
        channel: d.channel,
        site: d.site ?? null,
        kind: d.kind,
        status: d.status,
        created_at: d.createdAt,
        send_after: d.sendAfter ?? null,
        silence: d.silence ?? null,
        message: d.message ? JSON.stringify(d.message) : null,
        flushed_at: flushedAt,
      });
      return Number(info.lastInsertRowid);
    },
    addItem: (deliveryId: number, item: DeliveryItem) => void q.insertItem.run(deliveryId, item.alertId, item.reason, item.since, JSON.stringify(item.alert)),
    dueGroups: (now: number): Delivery[] => q.dueGroups.all(now).map(toDelivery),
    markFlushed: (id: number, message: RenderedMessage, now: number) => void q.flushed.run(JSON.stringify(message), now, id),
    remove: (id: number) => void q.remove.run(id),
    nextToSend(channel: string, now: number): Delivery | undefined {
      const r = q.nextToSend.get(channel, now);
      return r ? toDelivery(r) : undefined;
    },
    waitingChannels: (): string[] => q.waitingChannels.all().map((r) => r.channel),
    recordAttempt(id: number, a: { status: DeliveryStatus; attempts: number; at: number; nextAttemptAt?: number; error?: string }): void {
      q.attempt.run({
        id,
        status: a.status,
        attempts: a.attempts,
        last_attempt_at: a.at,
        next_attempt_at: a.nextAttemptAt ?? null,
        sent_at: a.status === 'sent' ? a.at : null,
        error: a.error ?? null,
      });
    },
    delivery: (id: number): Delivery | undefined => {
      const r = q.byId.get(id);
      return r ? toDelivery(r) : undefined;
    },
    /** Newest first. */
    deliveries(query: DeliveryQuery): Delivery[] {
      const where: string[] = [];
      const params: Record<string, string | number> = { limit: query.limit ?? 500 };
      if (query.alert) {
        where.push('id IN (SELECT delivery_id FROM delivery_items WHERE alert_id = @alert)');
        params.alert = query.alert;
      }
      if (query.channel) {
        where.push('channel = @channel');
        params.channel = query.channel;
      }
      if (query.from !== undefined) {
        where.push('created_at >= @from');
        params.from = query.from;
      }
      if (query.to !== undefined) {
        where.push('created_at < @to');
        params.to = query.to;
      }
      const rows = db
        .prepare<Record<string, string | number>, Row>(
          `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT @limit`,
        )
        .all(params);
      return rows.map(toDelivery);
    },
    /** Replaces a delivery's items (a group keeps only what is still worth sending when it goes out). */
    replaceItems(deliveryId: number, items: DeliveryItem[]): void {
      q.dropItems.run(deliveryId);
      for (const item of items) q.insertItem.run(deliveryId, item.alertId, item.reason, item.since, JSON.stringify(item.alert));
    },
    prune(before: number): void {
      q.prune.run(before);
      q.silencesPrune.run(before);
    },
    close: () => db.close(),
  };
}
