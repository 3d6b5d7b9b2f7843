import type { Logger } from 'pino';
import type { Reading } from '../core/domain.js';
import type { ReadingLineSink } from './influx-store.js';
import type { Outbox, OutboxCategory, OutboxKind, OutboxPayloads, OutboxRun } from './outbox.js';
import { readingKeyOfLine } from './influx-points.js';
import { StoreError, type ReadingKey, type Store } from './store.js';

/**
 * A Store in front of InfluxDB whose writes - readings, alert events, command records - only wait for the
 * on-disk outbox, so an InfluxDB outage or restart never blocks ingest or the rules engine and loses nothing
 * they handed over: once writeReadings, writeAlerts or writeCommands resolves, the items are on disk and
 * reach InfluxDB in the order they were written, across restarts. A single drainer sends the outbox to the
 * inner store oldest first, consecutive entries of one kind as one write, and deletes them only after
 * InfluxDB confirmed them; alerts and commands carry their outbox number, so one sent twice is stored once.
 * Reads go straight to InfluxDB: what is still in the outbox is not visible yet - a reading not in history(),
 * an alert event not in alerts(), a command record not in commands() - until it is delivered; only the keys of
 * waiting readings are offered (waitingReadingKeys), for the duplicate check. At start a
 * backlog is delivered first (bounded by startFlushMs) so the rules engine's restart recovery reads it.
 * An InfluxDB that cannot be reached at start does not stop the service (the outbox accepts; the drainer
 * prepares InfluxDB once it answers); wrong credentials still do.
 * close() sends the backlog to a healthy InfluxDB for up to closeFlushMs and never waits on a failing one.
 */
export interface DrainClock {
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface BufferedStoreOptions {
  /**
   * The inner store's line format (InfluxDB): readings then wait in the outbox as the lines they will be sent as,
   * formatted once on arrival, and a run goes out as its text (no JSON between, issue 18). Without it, as JSON.
   */
  lines?: ReadingLineSink;
  logger: Logger;
  batchSize?: number;
  retryMinMs?: number;
  /** Longest wait between two attempts while InfluxDB is down: also the longest delay before a recovered InfluxDB is noticed. */
  retryMaxMs?: number;
  /** On close, how long to keep sending the backlog to a healthy InfluxDB before leaving the rest for the next start. */
  closeFlushMs?: number;
  /**
   * At start, how long init() waits for a backlog from before the restart to reach a reachable InfluxDB, so
   * the rules engine recovers from complete alert, command and reading history. It stops at the first failed
   * write; what is left after it is still delivered, only later than the recovery reads.
   */
  startFlushMs?: number;
  /**
   * Backpressure: while InfluxDB takes writes but the outbox holds more than this many entries, writeReadings
   * resolves only once the drainer has brought it back under half of it. Devices then wait for their PUBACK
   * (QoS 1) or TCP window (QoS 0) instead of the backlog growing for ever, and the CPU goes to sending rather
   * than queueing. While InfluxDB is failing there is no limit: the outbox is what rides out the outage.
   */
  highWaterEntries?: number;
  clock?: DrainClock;
}

export interface BufferedStoreStats {
  /** Entries waiting, all kinds. */
  outboxDepth: number;
  outboxDepthByKind: Record<OutboxCategory, number>;
  outboxOldestAgeMs: number;
  /** Entries delivered, all kinds. */
  writtenTotal: number;
  failedAttempts: number;
  dead: number;
  /** Failed attempts in a row; 0 once a write succeeds. */
  consecutiveFailures: number;
  /** The error of the current run of failures; cleared once a write succeeds (health is then ok again). */
  lastError?: string;
  /** Times a write waited for the drainer to catch up (backpressure, see highWaterEntries). */
  backpressureWaits: number;
}

export interface BufferedStore extends Store {
  stats(): BufferedStoreStats;
  /**
   * Waits until every entry in the outbox is delivered (or dead-lettered); throws after `timeoutMs`, or at
   * the first failed write with `failFast`.
   */
  flush(timeoutMs?: number, options?: { failFast?: boolean }): Promise<void>;
}

const NAMES: Record<OutboxKind, string> = {
  reading: 'readings',
  alert: 'alert events',
  command: 'command records',
  tagRead: 'tag reads',
  readingLine: 'readings',
};

/**
 * The drainer's life, one state at a time, and the only transitions it makes:
 *   new -> running             init(): InfluxDB ready (sends the backlog from before the restart first)
 *   new -> preparing           init(): InfluxDB unreachable; writes wait in the outbox meanwhile
 *   preparing -> running       the drainer prepared InfluxDB (database, checks) before its first write
 *   running -> closing         close() with InfluxDB healthy: the backlog goes now, the first failure ends that try
 *   closing -> stopped         the backlog sent, or the try given up (the rest waits for the next start)
 *   new | preparing | running -> stopped   close() with InfluxDB failing: nothing is waited for
 *   stopped -> abandoned       a write still running at shutdown outlived the wait: the drainer must not touch the
 *                              closed outbox when it ends (its entries are sent again after the next start)
 */
type DrainerState = 'new' | 'preparing' | 'running' | 'closing' | 'stopped' | 'abandoned';
const DRAINER_TRANSITIONS: Record<DrainerState, readonly DrainerState[]> = {
  new: ['running', 'preparing', 'stopped'],
  preparing: ['running', 'stopped'],
  running: ['closing', 'stopped'],
  closing: ['stopped'],
  stopped: ['abandoned'],
  abandoned: [],
};

export const realClock: DrainClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    }),
};

export function createBufferedStore(inner: Store, outbox: Outbox, options: BufferedStoreOptions): BufferedStore {
  const logger = options.logger.child({ store: 'outbox' });
  const batchSize = options.batchSize ?? 5000;
  const retryMinMs = options.retryMinMs ?? 500;
  const retryMaxMs = options.retryMaxMs ?? 10_000;
  const closeFlushMs = options.closeFlushMs ?? 5_000;
  const startFlushMs = options.startFlushMs ?? 30_000;
  const highWater = options.highWaterEntries ?? 50_000;
  const clock = options.clock ?? realClock;
  const counters = { writtenTotal: 0, failedAttempts: 0, consecutiveFailures: 0, backpressureWaits: 0, lastError: undefined as string | undefined };

  /** The drainer's loop, once init() started it. */
  let drainer: Promise<void> | undefined;
  let state: DrainerState = 'new';
  function enter(next: DrainerState): void {
    if (!DRAINER_TRANSITIONS[state].includes(next)) throw new Error(`outbox drainer: no transition from ${state} to ${next}`);
    state = next;
  }
  const sending = () => state === 'preparing' || state === 'running' || state === 'closing';
  /** Set while the drainer waits for entries (the outbox is empty); calling it wakes the drainer. */
  let wakeIdle: (() => void) | undefined;
  let backoff = new AbortController();
  const flushWaiters = new Set<{ resolve(): void; reject(err: Error): void; failFast: boolean }>();

  function wake() {
    wakeIdle?.();
    wakeIdle = undefined;
  }

  /** Writers held back by backpressure; released as the drainer makes progress or starts failing. */
  let roomWaiters: (() => void)[] = [];
  const healthy = () => (state === 'running' || state === 'closing') && counters.consecutiveFailures === 0;
  const mustWait = (limit: number) => healthy() && outbox.depth() > limit;
  function releaseRoom() {
    if (roomWaiters.length === 0 || mustWait(highWater / 2)) return;
    const waiting = roomWaiters;
    roomWaiters = [];
    for (const release of waiting) release();
  }
  async function room(): Promise<void> {
    if (!mustWait(highWater)) return;
    counters.backpressureWaits++;
    await new Promise<void>((resolve) => roomWaiters.push(resolve));
  }

  /** One write for a run of one kind; alerts and commands keyed by their outbox number (stored once if sent again). */
  function deliver(run: OutboxRun): Promise<void> {
    switch (run.kind) {
      case 'reading':
        return inner.writeReadings(run.values);
      case 'alert':
        return inner.writeAlerts(run.values, { keys: run.seqs });
      case 'command':
        return inner.writeCommands(run.values, { keys: run.seqs });
      case 'tagRead':
        return inner.writeTagReads(run.values);
      case 'readingLine':
        if (!options.lines)
          return Promise.reject(new StoreError('STORE_WRITE', 'the outbox holds readings as InfluxDB lines but this store takes none', false));
        return options.lines.write(run.text);
    }
  }

  async function drain() {
    // Shrinks when InfluxDB rejects a batch as bad data, to isolate the few entries at fault (bisection).
    let limit = batchSize;
    while (sending()) {
      const run = outbox.peekRun(limit);
      if (!run) {
        for (const w of flushWaiters) w.resolve();
        flushWaiters.clear();
        await new Promise<void>((resolve) => (wakeIdle = resolve));
        continue;
      }
      const count = run.seqs.length;
      const lastSeq = run.seqs[count - 1];
      try {
        if (state === 'preparing') {
          await inner.init();
          enter('running');
          logger.info('InfluxDB reachable: prepared; sending the outbox');
        }
        await deliver(run);
        // The batch stays in the outbox and is sent again after the restart: InfluxDB keeps one point per series
        // and time (a reading's time is its own; an alert's or command's carries its outbox number).
        if (state === 'abandoned') return;
        await outbox.remove(lastSeq);
        releaseRoom();
        counters.writtenTotal += count;
        if (counters.consecutiveFailures > 0) logger.info({ depth: outbox.depth() }, 'store writes succeed again; sending the backlog');
        counters.consecutiveFailures = 0;
        counters.lastError = undefined;
        limit = Math.min(batchSize, limit * 2);
      } catch (err) {
        if (state === 'abandoned') return;
        counters.failedAttempts++;
        const message = err instanceof Error ? err.message : String(err);
        counters.lastError = message;
        for (const w of flushWaiters) {
          if (state !== 'closing' && !w.failFast) continue;
          w.reject(new StoreError('STORE_WRITE', `store failing ${state === 'closing' ? 'at shutdown' : 'now'} (${message})`, true));
          flushWaiters.delete(w);
        }
        // Unknown errors count as retryable: an entry is only ever set aside on the store's explicit verdict.
        const retryable = !(err instanceof StoreError) || err.retryable;
        if (retryable) {
          const delayMs = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(counters.consecutiveFailures, 30));
          counters.consecutiveFailures++;
          releaseRoom(); // InfluxDB failing: the outbox takes everything again
          logger.warn(
            { err: message, depth: outbox.depth(), retryInMs: delayMs, attempt: counters.consecutiveFailures },
            `store write of ${count} ${NAMES[run.kind]} failed; they stay in the outbox`,
          );
          await clock.sleep(delayMs, backoff.signal);
          if (backoff.signal.aborted) backoff = new AbortController();
        } else if (count > 1) {
          limit = Math.ceil(count / 2);
        } else {
          await outbox.deadLetter(lastSeq, message);
          logger.error(
            { err: message, kind: run.kind, entry: run.kind === 'readingLine' ? run.text : run.values[0], seq: lastSeq },
            `store refused one of the ${NAMES[run.kind]} as invalid: moved to the dead table of outbox.db, not retried`,
          );
        }
      }
    }
  }

  function stats(): BufferedStoreStats {
    return {
      outboxDepth: outbox.depth(),
      outboxDepthByKind: outbox.depthByKind(),
      outboxOldestAgeMs: outbox.oldestAgeMs(clock.now()),
      writtenTotal: counters.writtenTotal,
      failedAttempts: counters.failedAttempts,
      dead: outbox.deadCount(),
      consecutiveFailures: counters.consecutiveFailures,
      lastError: counters.lastError,
      backpressureWaits: counters.backpressureWaits,
    };
  }

  /** "12 entries (10 readings, 2 alert events)" */
  function describeDepth(): string {
    const byKind = outbox.depthByKind();
    const parts = (Object.keys(byKind) as OutboxCategory[]).filter((k) => byKind[k] > 0).map((k) => `${byKind[k]} ${NAMES[k]}`);
    return `${outbox.depth()} entries${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
  }

  async function flush(timeoutMs = 30_000, flushOptions: { failFast?: boolean } = {}): Promise<void> {
    if (!drainer) throw new StoreError('STORE_WRITE', 'the outbox drainer is not running: call init() first');
    await appendsSettled();
    if (wakeIdle && outbox.depth() === 0) return;
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (err: Error) => (clearTimeout(timer), reject(err)),
        failFast: flushOptions.failFast ?? false,
      };
      const timer = setTimeout(() => {
        flushWaiters.delete(waiter);
        reject(
          new StoreError('STORE_WRITE', `outbox still holds ${describeDepth()} after ${timeoutMs} ms (last error: ${counters.lastError ?? 'none'})`, true),
        );
      }, timeoutMs);
      flushWaiters.add(waiter);
      // A flush means "try now": cut a running back-off short.
      backoff.abort();
      wake();
    });
  }

  /** Appends still being committed: flush() and close() wait for them, so they cover every write already made. */
  const appending = new Set<Promise<void>>();
  async function appendsSettled(): Promise<void> {
    while (appending.size > 0) await Promise.allSettled([...appending]);
  }

  function append<K extends OutboxKind>(kind: K, values: readonly OutboxPayloads[K][]): Promise<void> {
    const done = outbox.append(kind, values).then(
      () => wake(),
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        throw new StoreError('STORE_WRITE', `cannot append ${NAMES[kind]} to the outbox (${message}): check free space and permissions of DATA_DIR`, true);
      },
    );
    appending.add(done);
    const forget = () => appending.delete(done);
    done.then(forget, forget);
    return done;
  }

  /** At start: the backlog from before the restart goes to InfluxDB before the rules engine reads its history. */
  async function deliverBacklog(): Promise<void> {
    const started = clock.now();
    logger.info({ backlog: describeDepth() }, 'sending the outbox backlog from before the restart first, so the restart recovery reads it');
    const progress = setInterval(() => logger.info({ left: describeDepth(), sentSoFar: counters.writtenTotal }, 'still sending the outbox backlog'), 5_000);
    progress.unref();
    try {
      await flush(startFlushMs, { failFast: true });
      logger.info({ sent: counters.writtenTotal, tookMs: clock.now() - started }, 'outbox backlog sent');
    } catch (err) {
      logger.warn(
        { err: (err as Error).message },
        'starting with part of the outbox backlog not yet in InfluxDB: it is sent in the background; restart recovery does not see it',
      );
    } finally {
      clearInterval(progress);
    }
  }

  return {
    kind: inner.kind,

    async init() {
      try {
        await inner.init();
      } catch (err) {
        // InfluxDB down when the service starts (a farm coming back from a power cut starts both at once):
        // readings are accepted into the outbox meanwhile. Wrong credentials or a missing database still stop start-up.
        if (!(err instanceof StoreError && err.code === 'STORE_UNREACHABLE' && err.retryable)) throw err;
        if (state === 'new') enter('preparing');
        counters.lastError = err.message;
        counters.consecutiveFailures = 1;
        logger.error({ err: err.message }, 'InfluxDB not reachable at start: readings, alert events and command records are kept in the outbox until it is');
      }
      if (state === 'new') enter('running');
      if (!drainer && sending()) {
        drainer = drain().catch((err) => {
          // Only the outbox itself failing (disk) gets here: nothing can be delivered until a restart.
          logger.fatal({ err }, 'outbox drainer stopped');
          for (const w of flushWaiters) w.reject(err as Error);
        });
        if (state === 'running' && outbox.depth() > 0) await deliverBacklog();
      }
    },

    async writeReadings(readings) {
      if (!options.lines) await append('reading', readings);
      else {
        // As InfluxDB lines; a reading that cannot be one (a value that is not finite) waits as JSON, so the drainer
        // meets InfluxDB's verdict on it and sets it aside alone, as it does for any refused entry.
        const lines: string[] = [];
        let unwritable: Reading[] | undefined;
        for (const r of readings) {
          try {
            const line = options.lines.line(r);
            if (line !== undefined) lines.push(line);
          } catch {
            (unwritable ??= []).push(r);
          }
        }
        await append('readingLine', lines);
        if (unwritable) await append('reading', unwritable);
      }
      await room();
    },

    stats,

    flush,

    history: (q) => inner.history(q),
    latest: (filter) => inner.latest(filter),
    raw: (q) => inner.raw(q),
    // What InfluxDB does not show yet but devices were told is stored: read at start by ingest's duplicate check,
    // so a device's resend of it is known even while InfluxDB cannot be asked.
    *waitingReadingKeys(): Generator<ReadingKey> {
      for (const w of outbox.waitingReadings()) {
        if (w.kind === 'reading') yield { device: w.value.device, ts: w.value.ts, metrics: Object.keys(w.value.metrics) };
        else {
          const key = readingKeyOfLine(w.line);
          if (key) yield key;
        }
      }
    },
    writeAlerts: (events) => append('alert', events),
    // Reads come from InfluxDB only: an alert event still in the outbox (InfluxDB down or catching up) is not
    // yet in the alert history (alerts()), nor a command record in commands(). The rules engine keeps its open
    // alerts in memory, so what is active is right meanwhile; only the history lags.
    alerts: (q) => inner.alerts(q),
    writeCommands: (records) => append('command', records),
    commands: (q) => inner.commands(q),
    // Tag reads are acknowledged to the reader once in the outbox, like readings (and wait the same way while
    // InfluxDB is far behind); an animal's timeline shows them once delivered.
    async writeTagReads(reads) {
      await append('tagRead', reads);
      await room();
    },
    tagReads: (q) => inner.tagReads(q),
    tagPositions: (since) => inner.tagPositions(since),

    async close() {
      if (state === 'closing' || state === 'stopped' || state === 'abandoned') return;
      // A healthy InfluxDB gets the backlog now (bounded); a failing one is not waited for: the outbox keeps it.
      const sendBacklog = state === 'running' && counters.consecutiveFailures === 0;
      enter(sendBacklog ? 'closing' : 'stopped');
      await appendsSettled();
      if (sendBacklog && outbox.depth() > 0) {
        await flush(closeFlushMs).catch((err: Error) =>
          logger.warn({ err: err.message }, 'outbox not empty at shutdown; the rest is sent after the next start'),
        );
      }
      if (sendBacklog) enter('stopped');
      releaseRoom();
      backoff.abort();
      wake();
      // Lets an in-flight write finish so its outcome is recorded, but not longer than a slow InfluxDB would hold shutdown.
      let timer: NodeJS.Timeout | undefined;
      const settled = await Promise.race([
        drainer?.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), closeFlushMs))),
      ]);
      clearTimeout(timer);
      if (settled === false) {
        enter('abandoned');
        logger.warn(
          { depth: outbox.depth() },
          'a write to the store was still running at shutdown; its entries stay in the outbox and are sent again after the next start',
        );
      }
      for (const w of flushWaiters) w.reject(new StoreError('STORE_WRITE', 'store closed before the outbox was empty; the rest is sent after restart'));
      flushWaiters.clear();
      await outbox.close();
      await inner.close();
    },
  };
}
