import type { Logger } from 'pino';
import { withAlertDefaults, type AlertEvent, type Reading, type TagRead, type ZoneKind } from '../core/domain.js';
import type { StoreChoice } from '../core/config/env.js';
import { createInfluxHttp, type InfluxChoice } from './influx-http.js';
import { prepareInflux } from './influx-init.js';
import {
  ALERT,
  COMMAND,
  NO_DIRECTION,
  TAG_READ,
  TAG_READ_TAGS,
  TELEMETRY,
  TELEMETRY_TAGS,
  alertLine,
  commandLine,
  createReadingLines,
  tagReadLine,
} from './influx-points.js';
import { epochMs, ident, rows, where, type InfluxResult } from './influxql.js';
import { influxHistory } from './influx-history.js';
import { DEFAULT_EVENT_LIMIT, DEFAULT_RAW_LIMIT } from './defaults.js';
import { StoreError, type CommandRecord, type LatestValue, type RawPoint, type Store, type TagPosition } from './store.js';

/** InfluxDB as the store (INFLUX_URL set): writes line protocol, reads with InfluxQL on both 1.x and 2.x. */
export interface InfluxStoreOptions {
  logger: Logger;
  fetch?: typeof fetch;
  /** How far back latest() looks; bounds the shards InfluxDB opens. Devices silent longer are shown offline anyway. */
  latestLookbackMs?: number;
  /** Lines per write request; InfluxDB's docs recommend batches of about 5000 points. */
  maxLinesPerRequest?: number;
}

const DAY_MS = 86_400_000;

/**
 * Readings as InfluxDB lines, for the outbox (buffered-store.ts): formatted once when they arrive, sent later as
 * the text they are (ms precision).
 */
export interface ReadingLineSink {
  /** The reading's line; undefined when it has no field. Throws StoreError for a value InfluxDB cannot take (not finite). */
  line(r: Reading): string | undefined;
  /** Lines joined by "\n", written as they are. */
  write(text: string): Promise<void>;
}

export type InfluxStore = Store & { readingLines: ReadingLineSink };

export function createInfluxStore(choice: StoreChoice, options: InfluxStoreOptions): InfluxStore {
  if (choice.kind === 'embedded') throw new TypeError('createInfluxStore needs an influx-v1 or influx-v2 store choice');
  const influx: InfluxChoice = choice;
  const http = createInfluxHttp(influx, options.fetch);
  const logger = options.logger.child({ store: influx.kind });
  const lookbackMs = options.latestLookbackMs ?? 30 * DAY_MS;
  const chunk = options.maxLinesPerRequest ?? 5000;
  const readingLine = createReadingLines();

  async function writeLines(lines: string[], precision: 'ms' | 'ns') {
    for (let i = 0; i < lines.length; i += chunk) await http.write(lines.slice(i, i + chunk), precision);
  }

  /** Runs statements and fails on the first statement error (a missing measurement is not an error: no series). */
  async function select(q: string): Promise<InfluxResult[]> {
    const results = await http.query(q);
    const failed = results.find((r) => r.error);
    if (failed) throw new StoreError('STORE_QUERY', `InfluxDB query failed: ${failed.error}`);
    return results;
  }

  async function eventsJson<T>(measurement: string, tags: Record<string, string | undefined>, q: { from?: number; to?: number; limit?: number }) {
    const limit = Math.max(1, Math.trunc(q.limit ?? DEFAULT_EVENT_LIMIT));
    const [result] = await select(`SELECT "json" FROM ${ident(measurement)}${where(tags, q)} ORDER BY time DESC LIMIT ${limit}`);
    return (result?.series ?? []).flatMap(rows).map((r) => JSON.parse(String(r.json)) as T);
  }

  return {
    kind: influx.kind,

    readingLines: { line: readingLine, write: (text) => http.writeText(text, 'ms') },

    init: () => prepareInflux(http, influx, logger),

    async writeReadings(readings) {
      const lines = readings.map(readingLine).filter((l): l is string => l !== undefined);
      await writeLines(lines, 'ms');
    },

    async history(q) {
      if (!(Math.trunc(q.everyMs) > 0)) throw new StoreError('STORE_QUERY', `history bucket width must be a positive number of ms, got ${q.everyMs}`);
      return influxHistory(select, q);
    },

    async latest(filter = {}) {
      // last(*) would stamp every metric with one time; one last(field) per metric keeps each metric's own time.
      const [keys] = await select(`SHOW FIELD KEYS FROM ${ident(TELEMETRY)}`);
      const fields = (keys?.series?.[0]?.values ?? []).filter((v) => v[1] === 'float' || v[1] === 'integer').map((v) => String(v[0]));
      if (fields.length === 0) return [];
      const cond = where({ site: filter.site, zone: filter.zone, device: filter.device });
      const range = `time > now() - ${Math.trunc(lookbackMs)}ms`;
      const filterSql = cond ? `${cond} AND ${range}` : ` WHERE ${range}`;
      const statements = fields.map(
        (f) => `SELECT last(${ident(f)}) AS "value" FROM ${ident(TELEMETRY)}${filterSql} GROUP BY ${TELEMETRY_TAGS.map(ident).join(', ')}`,
      );
      const results = await select(statements.join('; '));
      const values: LatestValue[] = [];
      results.forEach((result, i) => {
        for (const s of result.series ?? [])
          for (const r of rows(s)) values.push({ ...deviceRef(s.tags ?? {}), metric: fields[i], value: Number(r.value), ts: Number(r.time) });
      });
      return values.sort((a, b) => a.device.localeCompare(b.device) || a.metric.localeCompare(b.metric));
    },

    async raw(q) {
      const limit = Math.max(1, Math.trunc(q.limit ?? DEFAULT_RAW_LIMIT));
      const tagColumns = TELEMETRY_TAGS.map((t) => `${ident(t)}::tag`).join(', ');
      const fieldsSql = q.metric ? `${ident(q.metric)}::field, ${tagColumns}` : '*';
      const [result] = await select(`SELECT ${fieldsSql} FROM ${ident(TELEMETRY)}${where({ site: q.site, zone: q.zone, device: q.device }, q)} LIMIT ${limit}`);
      const points: RawPoint[] = [];
      for (const s of result?.series ?? [])
        for (const r of rows(s))
          for (const [column, value] of Object.entries(r)) {
            if (column === 'time' || (TELEMETRY_TAGS as readonly string[]).includes(column) || typeof value !== 'number') continue;
            points.push({ ...deviceRef(r), metric: column, value, ts: Number(r.time) });
          }
      points.sort((a, b) => a.ts - b.ts || a.device.localeCompare(b.device) || a.metric.localeCompare(b.metric));
      return points.slice(0, limit);
    },

    writeAlerts: (events, o) =>
      writeLines(
        events.map((e, i) => alertLine(e, o?.keys?.[i])),
        'ns',
      ),
    alerts: async (q) => (await eventsJson<AlertEvent>(ALERT, { site: q.site }, q)).map(withAlertDefaults),
    writeCommands: (records, o) =>
      writeLines(
        records.map((c, i) => commandLine(c, o?.keys?.[i])),
        'ns',
      ),
    commands: (q) => eventsJson<CommandRecord>(COMMAND, { site: q.site, device: q.device }, q),

    writeTagReads: (reads) => writeLines(reads.map(tagReadLine), 'ms'),

    async tagReads(q) {
      const limit = Math.max(1, Math.trunc(q.limit ?? DEFAULT_RAW_LIMIT));
      const columns = ['direction', ...TAG_READ_TAGS].map(ident).join(', ');
      const [result] = await select(
        `SELECT ${columns} FROM ${ident(TAG_READ)}${where({ tag: q.tag, site: q.site, zone: q.zone, device: q.device }, q)} ORDER BY time DESC LIMIT ${limit}`,
      );
      const reads = (result?.series ?? []).flatMap(rows).map((r) => tagReadOf(r, Number(r.time)));
      return reads.sort((a, b) => b.ts - a.ts || b.device.localeCompare(a.device) || a.tag.localeCompare(b.tag));
    },

    async tagPositions(since) {
      // The newest point of each series (one reader, one tag); the newest of a tag's series is its position.
      const [result] = await select(
        `SELECT last("direction") AS "direction" FROM ${ident(TAG_READ)} WHERE time >= ${epochMs(since)} GROUP BY ${TAG_READ_TAGS.map(ident).join(', ')}`,
      );
      const positions = new Map<string, TagPosition>();
      const newer = (a: TagRead, b: TagRead | undefined) => !b || a.ts > b.ts || (a.ts === b.ts && a.device > b.device);
      for (const s of result?.series ?? [])
        for (const r of rows(s)) {
          const read = tagReadOf({ ...s.tags, direction: r.direction }, Number(r.time));
          const p = positions.get(read.tag) ?? { tag: read.tag, last: read };
          if (newer(read, p.last)) p.last = read;
          if (read.direction && newer(read, p.lastGate)) p.lastGate = read;
          positions.set(read.tag, p);
        }
      return [...positions.values()];
    },

    // Nothing is held open: every call is a plain HTTP request.
    async close() {},
  };
}

function deviceRef(tags: Record<string, unknown>) {
  return { site: String(tags.site), zone: String(tags.zone), kind: String(tags.kind) as ZoneKind, device: String(tags.device) };
}

function tagReadOf(r: Record<string, unknown>, ts: number): TagRead {
  const read: TagRead = { ...deviceRef(r), ts, tag: String(r.tag) };
  if (r.direction === 'in' || r.direction === 'out') read.direction = r.direction;
  else if (r.direction !== NO_DIRECTION && r.direction !== undefined && r.direction !== null)
    throw new StoreError(
      'STORE_QUERY',
      `InfluxDB holds a tag read of ${read.tag} with direction ${JSON.stringify(r.direction)}: only in, out and ${NO_DIRECTION} are written`,
    );
  return read;
}
