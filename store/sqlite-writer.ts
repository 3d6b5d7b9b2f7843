import { Worker } from 'node:worker_threads';
import { StoreError } from './store.js';

/**
 * The write side of a SQLite file, in a worker thread (store/sqlite-writer-worker.mjs). better-sqlite3 is
 * synchronous, and with synchronous=FULL every commit waits for an fsync (0.5 ms typical, several ms at
 * the tail): run on the event loop, that stalls every MQTT packet and rule evaluation queued behind it.
 * Here a transaction resolves once it is committed (and fsynced), and the event loop runs meanwhile.
 *
 * - One transaction per call: the rows of every step, in one BEGIN IMMEDIATE ... COMMIT. A failure rolls all of
 *   it back and rejects with a SqliteWriteError carrying SQLite's code (SQLITE_BUSY, SQLITE_FULL, ...).
 * - Calls commit in the order they were made (one thread, one FIFO message port).
 * - A thread that dies rejects every call it had not confirmed with a retryable StoreError (never a hang);
 *   the next call starts a new thread.
 * - close() waits for the calls before it, runs `finalSql` (e.g. PRAGMA optimize) and ends the thread.
 * The thread is unref'd while it has nothing to do, so an idle writer never keeps the process alive.
 * Readers stay on the owner's own connection (WAL: readers and the one writer do not block each other).
 */
export type SqlValue = string | number | bigint | null;

export type WriteStep =
  | {
      /** One statement, prepared once per thread and cached. */
      sql: string;
      /** Positional parameters, one array per execution. */
      rows: readonly (readonly SqlValue[])[];
      /** Collect the rows the statement returns (a SELECT inside the transaction) instead of running it. */
      all?: boolean;
    }
  | {
      sql: string;
      /**
       * The parameters of every execution one after another, `width` each: one flat array crosses to the thread
       * far cheaper than an array per row (a batch of readings is thousands of rows; issue 18).
       */
      flat: readonly SqlValue[];
      width: number;
    }
  | {
      sql: string;
      /**
       * The same as a table of numbers, moved to the thread rather than copied: `width` per execution; the columns
       * in `stringColumns` hold an index into `strings` (ids, metric names: the few strings a batch repeats).
       * Numbers are bound as REAL (a column of INTEGER affinity stores an integer value as an integer).
       */
      numbers: Float64Array;
      width: number;
      strings: readonly string[];
      stringColumns: readonly number[];
    }
  | {
      sql: string;
      /** One execution per line of `lines` ("\n" between them), with `before` then the line as its parameters. */
      lines: string;
      before: readonly SqlValue[];
    };

export interface StepResult {
  changes: number;
  rows: unknown[];
  /** The rowid of the last row the step inserted (better-sqlite3's lastInsertRowid), if it ran any. */
  lastRowid?: number;
}

export class SqliteWriteError extends Error {
  constructor(
    message: string,
    /** SQLite's extended code, e.g. SQLITE_BUSY or SQLITE_CONSTRAINT_PRIMARYKEY. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SqliteWriteError';
  }
}

export interface SqliteWriter {
  transaction(steps: readonly WriteStep[]): Promise<StepResult[]>;
  /** Calls not yet confirmed. */
  pending(): number;
  close(finalSql?: readonly string[]): Promise<void>;
}

/**
 * The settings both connections to one file (the event loop's reader and the writer thread) open it with:
 * WAL, so they do not block each other; synchronous=FULL, so a commit is on disk when it resolves; and how long
 * to wait for a lock another process holds.
 */
export function durablePragmas(busyTimeoutMs: number): string[] {
  return ['journal_mode = WAL', 'synchronous = FULL', `busy_timeout = ${busyTimeoutMs}`];
}

export interface SqliteWriterOptions {
  path: string;
  /** Run by the thread on its connection before the first transaction, e.g. 'synchronous = FULL'. */
  pragmas: readonly string[];
  /** Names the file in error messages, e.g. "embedded store /data/farm.db". */
  label: string;
  /** Tests only: a worker script that fails on purpose. */
  workerUrl?: URL;
}

type Reply = { id: number; ok: true; results?: StepResult[] } | { id: number; ok: false; error: { message: string; code?: string } };
type Waiter = { resolve(results: StepResult[]): void; reject(err: Error): void };

interface Thread {
  worker: Worker;
  waiting: Map<number, Waiter>;
  exited: Promise<void>;
}

const WORKER_URL = new URL('./sqlite-writer-worker.mjs', import.meta.url);
/** How long close() lets the thread end by itself after it closed the file. */
const EXIT_GRACE_MS = 2_000;

export function createSqliteWriter(options: SqliteWriterOptions): SqliteWriter {
  let thread: Thread | undefined;
  let nextId = 1;
  let closing: Promise<void> | undefined;

  function spawn(): Thread {
    // execArgv []: the worker is plain JavaScript, it needs neither tsx nor the parent's flags (--cpu-prof ...).
    const worker = new Worker(options.workerUrl ?? WORKER_URL, { workerData: { path: options.path, pragmas: options.pragmas }, execArgv: [] });
    const waiting = new Map<number, Waiter>();
    let failure: string | undefined;
    const t: Thread = {
      worker,
      waiting,
      exited: new Promise<void>((resolve) =>
        worker.on('exit', (code) => {
          if (thread === t) thread = undefined;
          if (waiting.size > 0) {
            const reason = failure ?? `exit code ${code}`;
            const err = new StoreError(
              'STORE_WRITE',
              `${options.label}: the SQLite writer thread stopped (${reason}) before confirming ${waiting.size} write(s); they were not acknowledged and the next write starts a new thread. If this repeats, check the service log and DATA_DIR, then restart the service`,
              true,
            );
            for (const w of waiting.values()) w.reject(err);
            waiting.clear();
          }
          resolve();
        }),
      ),
    };
    worker.on('error', (err) => (failure = err.message));
    worker.on('message', (reply: Reply) => {
      const w = waiting.get(reply.id);
      if (!w) return;
      waiting.delete(reply.id);
      if (waiting.size === 0) worker.unref();
      if (reply.ok) w.resolve(reply.results ?? []);
      else w.reject(new SqliteWriteError(reply.error.message, reply.error.code));
    });
    worker.unref();
    return t;
  }

  function send(t: Thread, message: object): Promise<StepResult[]> {
    const id = nextId++;
    return new Promise<StepResult[]>((resolve, reject) => {
      t.waiting.set(id, { resolve, reject });
      t.worker.ref();
      // Tables of numbers move to the thread (their buffer is handed over, not copied).
      const steps = (message as { steps?: readonly WriteStep[] }).steps ?? [];
      const transfer = steps.flatMap((step) => ('numbers' in step ? [step.numbers.buffer as ArrayBuffer] : []));
      t.worker.postMessage({ id, ...message }, transfer);
    });
  }

  return {
    transaction(steps) {
      if (closing) return Promise.reject(new StoreError('STORE_WRITE', `${options.label} is closed: no more writes are accepted (the service is stopping)`));
      thread ??= spawn();
      return send(thread, { steps });
    },

    pending: () => thread?.waiting.size ?? 0,

    close(finalSql = []) {
      closing ??= (async () => {
        const t = thread;
        if (!t) return;
        try {
          await send(t, { close: true, finalSql });
        } finally {
          // Keep the thread referenced until it has ended: otherwise a process with nothing else to do would
          // exit before close() resolves (a shutdown that never logs "stopped cleanly").
          t.worker.ref();
          // The thread has closed its connection (or died): if it does not end by itself, end it.
          const timer = setTimeout(() => void t.worker.terminate(), EXIT_GRACE_MS);
          await t.exited;
          clearTimeout(timer);
        }
      })();
      return closing;
    },
  };
}
