// The thread behind store/sqlite-writer.ts: owns the one write connection to a SQLite file and runs, for each
// request, the given statements with the given rows in ONE transaction, then replies. better-sqlite3 is
// synchronous, so a commit (an fsync with synchronous=FULL) here no longer holds up the service's event loop.
//
// Plain JavaScript on purpose: the service runs under `node --import tsx`, but vitest's transform does not reach
// worker threads, so a .ts worker would not load in the tests. Keep it small and generic; the SQL stays in the
// TypeScript modules that own it (store/sqlite-store.ts, store/outbox.ts).
//
// Protocol (structured-clone messages on parentPort, answered in order):
//   { id, steps: [{ sql, rows: [params...], all? } | { sql, flat: [p1, p2, ...], width }
//                 | { sql, numbers: Float64Array, width, strings, stringColumns } | { sql, lines, before }] }
//                                                      -> { id, ok: true, results: [{ changes, rows, lastRowid }] }
//                                                      | { id, ok: false, error: { message, code } }
//   { id, close: true, finalSql: [...] }              -> { id, ok, error? }, then the thread ends
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, pragmas } = workerData;
// An error here is uncaught: the worker ends and the writer reports the message to every caller.
const db = new Database(path);
for (const pragma of pragmas) db.pragma(pragma);

const MAX_CACHED = 64;
const statements = new Map();
function statement(sql) {
  let st = statements.get(sql);
  if (!st) {
    if (statements.size >= MAX_CACHED) statements.clear();
    st = db.prepare(sql);
    statements.set(sql, st);
  }
  return st;
}

// IMMEDIATE: take the write lock at BEGIN, not at the first write, so a transaction that reads first
// (the outbox counts what it removes) cannot fail halfway on a lock upgrade.
const runSteps = db.transaction((steps) =>
  steps.map((step) => {
    const st = statement(step.sql);
    let changes = 0;
    let lastRowid;
    const rows = [];
    const run = (params) => {
      const info = st.run(params);
      changes += info.changes;
      lastRowid = Number(info.lastInsertRowid);
    };
    if (step.numbers) {
      const { numbers, width, strings } = step;
      const isString = new Array(width).fill(false);
      for (const k of step.stringColumns) isString[k] = true;
      const params = new Array(width);
      for (let i = 0; i < numbers.length; i += width) {
        for (let k = 0; k < width; k++) params[k] = isString[k] ? strings[numbers[i + k]] : numbers[i + k];
        run(params);
      }
      return { changes, rows, lastRowid };
    }
    if (step.lines !== undefined) {
      const params = [...step.before, ''];
      const last = params.length - 1;
      let from = 0;
      while (from <= step.lines.length && step.lines.length > 0) {
        const to = step.lines.indexOf('\n', from);
        params[last] = step.lines.slice(from, to < 0 ? undefined : to);
        run(params);
        if (to < 0) break;
        from = to + 1;
      }
      return { changes, rows, lastRowid };
    }
    if (step.flat) {
      // One flat array, `width` parameters per execution (run() is synchronous, so one params array serves all).
      const params = new Array(step.width);
      for (let i = 0; i < step.flat.length; i += step.width) {
        for (let k = 0; k < step.width; k++) params[k] = step.flat[i + k];
        run(params);
      }
      return { changes, rows, lastRowid };
    }
    for (const params of step.rows) {
      if (step.all) rows.push(...st.all(params));
      else run(params);
    }
    return { changes, rows, lastRowid };
  }),
);

parentPort.on('message', (msg) => {
  if (msg.close) {
    let error;
    try {
      for (const sql of msg.finalSql ?? []) db.exec(sql);
    } catch (err) {
      error = describe(err);
    }
    db.close();
    parentPort.postMessage({ id: msg.id, ok: error === undefined, error });
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage({ id: msg.id, ok: true, results: runSteps.immediate(msg.steps) });
  } catch (err) {
    parentPort.postMessage({ id: msg.id, ok: false, error: describe(err) });
  }
});

function describe(err) {
  return { message: err instanceof Error ? err.message : String(err), code: typeof err?.code === 'string' ? err.code : undefined };
}
