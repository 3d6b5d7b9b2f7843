import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { createOutbox, type OutboxRun } from '../../store/outbox.js';
import { createOutboxTail } from '../../store/outbox-tail.js';
import { BASE, alert, reading } from './contract.js';

const line = (i: number) => `telemetry,device=d,kind=shed,site=s,zone=z nh3=${i} ${BASE + i}`;
const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => line(from + i));

describe('outbox tail (the appended lines kept in memory)', () => {
  it('hands out runs of lines from the front, across appends, up to the limit and up to another kind', () => {
    const tail = createOutboxTail({ complete: true, maxEntries: 100 });
    expect(tail.frontLines(10)).toBe('empty');
    tail.appended('readingLine', 1, 3, lines(1, 3));
    tail.appended('readingLine', 4, 2, lines(4, 2));
    tail.appended('alert', 6, 1);
    expect(tail.frontLines(4)).toEqual({ text: lines(1, 4).join('\n'), first: 1, count: 4 });
    expect(tail.frontLines(50)).toEqual({ text: lines(1, 5).join('\n'), first: 1, count: 5 });
    tail.removed(2, 4);
    expect(tail.frontLines(50)).toEqual({ text: lines(3, 3).join('\n'), first: 3, count: 3 });
    tail.removed(5, 1);
    // An alert at the front: its run is read from SQLite.
    expect(tail.frontLines(50)).toBeUndefined();
    tail.removed(6, 0);
    expect(tail.frontLines(50)).toBe('empty');
  });

  it('is not trusted after a restart with a backlog, nor past its size, until the outbox was empty again', () => {
    const restarted = createOutboxTail({ complete: false, maxEntries: 100 });
    restarted.appended('readingLine', 11, 2, lines(11, 2));
    expect(restarted.frontLines(10)).toBeUndefined();
    restarted.removed(12, 0);
    restarted.appended('readingLine', 13, 1, lines(13, 1));
    expect(restarted.frontLines(10)).toEqual({ text: line(13), first: 13, count: 1 });

    const small = createOutboxTail({ complete: true, maxEntries: 3 });
    small.appended('readingLine', 1, 2, lines(1, 2));
    small.appended('readingLine', 3, 2, lines(3, 2));
    expect(small.frontLines(10)).toBeUndefined();
    small.removed(4, 0);
    small.appended('readingLine', 5, 1, lines(5, 1));
    expect(small.frontLines(10)).toEqual({ text: line(5), first: 5, count: 1 });
  });
});

type Op = { op: 'lines'; n: number } | { op: 'readings'; n: number } | { op: 'alert' } | { op: 'drain'; max: number } | { op: 'reopen' };

/** The outbox's runs, whether from memory or from SQLite, are always the front of what was appended. */
describe('outbox runs against a model of the queue', () => {
  it('peekRun gives the front run of what was appended and not removed, across restarts', async () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 1, max: 7 }).map((n) => ({ op: 'lines' as const, n })) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((n) => ({ op: 'readings' as const, n })) },
      { weight: 1, arbitrary: fc.constant({ op: 'alert' as const }) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 9 }).map((max) => ({ op: 'drain' as const, max })) },
      { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const dataDir = await mkdtemp(join(tmpdir(), 'farm-outbox-model-'));
        let box = createOutbox({ dataDir, logger: silentLogger() });
        // The model: every entry still in the outbox, in order, as (kind, what peekRun should hand out).
        const model: { seq: number; kind: string; item: unknown }[] = [];
        let seq = 0;
        let n = 0;
        try {
          for (const o of ops) {
            if (o.op === 'lines') {
              const ls = lines(n, o.n);
              n += o.n;
              await box.append('readingLine', ls);
              for (const l of ls) model.push({ seq: ++seq, kind: 'readingLine', item: l });
            } else if (o.op === 'readings') {
              const rs = Array.from({ length: o.n }, () => reading('shed-1-env', BASE + n * 1000, { nh3: n++ }));
              await box.append('reading', rs);
              for (const r of rs) model.push({ seq: ++seq, kind: 'reading', item: r });
            } else if (o.op === 'alert') {
              const a = alert({ id: `a${n++}`, ts: BASE });
              await box.append('alert', [a]);
              model.push({ seq: ++seq, kind: 'alert', item: a });
            } else if (o.op === 'reopen') {
              await box.close();
              box = createOutbox({ dataDir, logger: silentLogger() });
            } else {
              const run = box.peekRun(o.max);
              const expected = [];
              for (const e of model) {
                if (expected.length >= o.max || e.kind !== model[0].kind) break;
                expected.push(e);
              }
              if (expected.length === 0) {
                expect(run).toBeUndefined();
                continue;
              }
              const want: OutboxRun =
                model[0].kind === 'readingLine'
                  ? { kind: 'readingLine', text: expected.map((e) => e.item).join('\n'), seqs: expected.map((e) => e.seq) }
                  : ({ kind: model[0].kind, values: expected.map((e) => e.item), seqs: expected.map((e) => e.seq) } as OutboxRun);
              expect(run).toEqual(want);
              await box.remove(want.seqs[want.seqs.length - 1]);
              model.splice(0, expected.length);
            }
            expect(box.depth()).toBe(model.length);
          }
        } finally {
          await box.close();
          await rm(dataDir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });
});
