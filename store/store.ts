import type { AlertEvent, Command, DeviceRef, Reading, TagRead } from '../core/domain.js';

/**
 * Where readings, alerts and commands are kept: the embedded SQLite store or InfluxDB.
 * Both implementations pass the same contract suite (test/store/contract.ts).
 */
export interface HistoryQuery {
  site?: string;
  zone?: string;
  device?: string;
  metric: string;
  from: number; // epoch ms, inclusive
  to: number; // epoch ms, exclusive
  everyMs: number; // bucket width
  /**
   * IANA zone whose wall clock cuts buckets of one hour or longer (a `1d` bucket starts at local midnight, 23 h or
   * 25 h long on DST days; see core/site-time.ts bucketStart); default UTC. Both stores cut the same buckets.
   */
  timeZone?: string;
}

export interface HistoryBucket {
  ts: number; // bucket start
  mean: number;
  min: number;
  max: number;
  count: number;
  /** Total of the bucket, for increment metrics only (rain_mm: the mm that fell in it). */
  sum?: number;
}

export interface HistorySeries {
  device: string;
  buckets: HistoryBucket[];
}

export interface LatestValue extends DeviceRef {
  metric: string;
  value: number;
  ts: number;
}

export interface RawQuery {
  site?: string;
  zone?: string;
  device?: string;
  metric?: string;
  from: number;
  to: number;
  limit?: number;
}

export interface RawPoint extends DeviceRef {
  metric: string;
  value: number;
  ts: number;
}

/** A command as stored: where it went and what came of it. */
export interface CommandRecord extends DeviceRef {
  command: Command;
  outcome: 'sent' | 'acked' | 'retried' | 'failed';
  ts: number;
}

export interface EventQuery {
  from?: number;
  to?: number;
  site?: string;
  limit?: number;
}

/**
 * For writeAlerts/writeCommands: one stable number per event, given by the outbox (its sequence number).
 * A store that supports it writes an event sent again with the same key once, not twice (the outbox resends
 * after a crash or after a write whose answer was lost), and orders events of the same millisecond by key.
 */
export interface EventWriteOptions {
  keys?: readonly number[];
}

/** Ear-tag reads of one animal, one reader or one place, newest first. */
export interface TagReadQuery {
  tag?: string;
  site?: string;
  zone?: string;
  device?: string;
  from: number; // epoch ms, inclusive
  to: number; // epoch ms, exclusive
  limit?: number;
}

/** Where the reads of one tag leave it: its newest read by any reader, and its newest gate read (what places it). */
export interface TagPosition {
  tag: string;
  last: TagRead;
  lastGate?: TagRead;
}

export interface Store {
  readonly kind: 'embedded' | 'influx-v1' | 'influx-v2';
  /** Checks the backend and prepares it (schema, database). Throws a StoreError that says what to do. */
  init(): Promise<void>;
  /**
   * Resolves once the readings are durable. A value whose device+metric+ts is already stored is stored once: the
   * embedded store keeps the first value, InfluxDB the last (ingest sends each value once, see ingest/ledger.ts).
   */
  writeReadings(readings: Reading[]): Promise<void>;
  history(q: HistoryQuery): Promise<HistorySeries[]>;
  latest(filter?: { site?: string; zone?: string; device?: string }): Promise<LatestValue[]>;
  raw(q: RawQuery): Promise<RawPoint[]>;
  writeAlerts(events: AlertEvent[], options?: EventWriteOptions): Promise<void>;
  alerts(q: EventQuery): Promise<AlertEvent[]>;
  writeCommands(records: CommandRecord[], options?: EventWriteOptions): Promise<void>;
  commands(q: EventQuery & { device?: string }): Promise<CommandRecord[]>;
  /** Resolves once durable. A read with the same device+tag+ts as one stored is stored once (the first stands). */
  writeTagReads(reads: TagRead[]): Promise<void>;
  tagReads(q: TagReadQuery): Promise<TagRead[]>;
  /**
   * The position of every tag read since `since` (epoch ms): what the register is rebuilt from at start.
   * A late, older read (a reader's buffer sent after reconnecting) never moves a position back.
   */
  tagPositions(since: number): Promise<TagPosition[]>;
  /**
   * Readings accepted (acknowledged to their device) but not in the store's reads yet: a store in front of another
   * (the outbox before InfluxDB) has them waiting. Read at start, so a value sent again is known while the store
   * behind cannot be asked. Stores that write straight through have none and leave it out.
   */
  waitingReadingKeys?(): Iterable<ReadingKey>;
  close(): Promise<void>;
}

/** Which values a reading carried: its device, its timestamp (ms) and its metric names. */
export interface ReadingKey {
  device: string;
  ts: number;
  metrics: string[];
}

export class StoreError extends Error {
  constructor(
    readonly code: 'STORE_UNREACHABLE' | 'STORE_AUTH' | 'STORE_NO_DATABASE' | 'STORE_WRITE' | 'STORE_QUERY',
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
