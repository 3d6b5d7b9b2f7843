import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import { silentLogger } from '../../core/logger.js';
import { createOutbox, type Outbox } from '../../store/outbox.js';
import { watchEventLoop } from '../helpers/event-loop.js';
import { BASE, alert, reading } from './contract.js';

const logger = silentLogger();
const readings = (n: number, from = 0) => Array.from({ length: n }, (_, i) => reading('shed-1-env', BASE + (from + i) * 1000, { nh3: from + i }));

describe('outbox on disk (writes in the writer thread)', () => {
  let dataDir: string;
  let outbox: Outbox | undefined;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'farm-outbox-'));
  });
  afterEach(async () => {
    await outbox?.close();
    outbox = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });
  const open = () => (outbox = createOutbox({ dataDir, logger }));

  it('keeps appends in call order and counts them by kind once they are on disk', async () => {
    const box = open();
    // Not awaited one by one: the order must still be the call order.
    await Promise.all([box.append('reading', readings(3)), box.append('alert', [alert({ id: 'a1', ts: BASE })]), box.append('reading', readings(2, 3))]);
    expect(box.depthByKind()).toEqual({ reading: 5, alert: 1, command: 0, tagRead: 0 });
    expect(box.peekRun(100)).toMatchObject({ kind: 'reading', seqs: [1, 2, 3] });
    await box.remove(3);
    expect(box.peekRun(100)).toMatchObject({ kind: 'alert', seqs: [4] });
    expect(await box.deadLetter(4, 'refused: 400')).toBe(1);
    expect(box.peekRun(100)).toMatchObject({ kind: 'reading', seqs: [5, 6], values: readings(2, 3) });
    expect(box.depthByKind()).toEqual({ reading: 2, alert: 0, command: 0, tagRead: 0 });
    expect(box.deadCount()).toBe(1);
  });

  it('keeps the depth right while appends and removals overlap', async () => {
    const box = open();
    await box.append('reading', readings(10));
    const overlapping = [box.remove(4), box.append('reading', readings(5, 10)), box.remove(12), box.append('reading', readings(1, 15))];
    await Promise.all(overlapping);
    expect(box.depth()).toBe(4); // 16 appended, 12 removed
    await box.close();
    outbox = undefined;
    const reopened = open();
    expect(reopened.depth()).toBe(4); // the counted depth agrees with the file
    expect(reopened.peekRun(10)?.seqs).toEqual([13, 14, 15, 16]);
  });

  it('hands out a run of readings whole, up to the limit and up to the next entry of another kind, also with a gap in the numbers', async () => {
    const box = open();
    await box.append('reading', readings(6));
    await box.append('alert', [alert({ id: 'a1', ts: BASE })]);
    await box.append('reading', readings(2, 6));
    expect(box.peekRun(4)).toEqual({ kind: 'reading', values: readings(4), seqs: [1, 2, 3, 4] });
    expect(box.peekRun(100)).toEqual({ kind: 'reading', values: readings(6), seqs: [1, 2, 3, 4, 5, 6] });
    await box.close();
    // A file edited by hand (entry 3 deleted): the numbers of the run have a gap.
    const db = new Database(join(dataDir, 'outbox.db'));
    db.prepare('DELETE FROM outbox WHERE seq = 3').run();
    db.close();
    const reopened = open();
    expect(reopened.peekRun(100)).toEqual({ kind: 'reading', values: [...readings(2), ...readings(3, 3)], seqs: [1, 2, 4, 5, 6] });
    await reopened.remove(6);
    expect(reopened.peekRun(100)).toMatchObject({ kind: 'alert', seqs: [7] });
    await reopened.remove(7);
    expect(reopened.peekRun(100)).toEqual({ kind: 'reading', values: readings(2, 6), seqs: [8, 9] });
  });

  it('hands out readings kept as lines as one text, one line each, counted as readings; also with a gap in the numbers', async () => {
    const box = open();
    const line = (i: number) => `telemetry,device=d,kind=shed,site=s,zone=z nh3=${i} ${BASE + i}`;
    await box.append('readingLine', [line(0), line(1), line(2)]);
    await box.append('reading', readings(1, 3));
    expect(box.depthByKind()).toEqual({ reading: 4, alert: 0, command: 0, tagRead: 0 });
    expect(box.peekRun(2)).toEqual({ kind: 'readingLine', text: `${line(0)}\n${line(1)}`, seqs: [1, 2] });
    expect(box.peekRun(100)).toEqual({ kind: 'readingLine', text: [0, 1, 2].map(line).join('\n'), seqs: [1, 2, 3] });
    await box.close();
    const db = new Database(join(dataDir, 'outbox.db'));
    db.prepare('DELETE FROM outbox WHERE seq = 2').run();
    db.close();
    const reopened = open();
    expect(reopened.peekRun(100)).toEqual({ kind: 'readingLine', text: `${line(0)}\n${line(2)}`, seqs: [1, 3] });
  });

  it('close() waits for appends still in flight: none is lost', async () => {
    const box = open();
    const inFlight = Array.from({ length: 20 }, (_, i) => box.append('reading', readings(1, i)));
    await box.close();
    await Promise.all(inFlight);
    outbox = undefined;
    const reopened = open();
    expect(reopened.depth()).toBe(20);
    const run = reopened.peekRun(50);
    expect(run && 'values' in run ? run.values.map((r) => (r as Reading).metrics.nh3) : run).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('while another process holds the file locked, appends wait without stalling the event loop, and reads still answer', async () => {
    const box = open();
    await box.append('reading', readings(1));
    const other = new Database(join(dataDir, 'outbox.db'));
    other.exec('BEGIN IMMEDIATE');
    const loop = watchEventLoop();
    let appended = false;
    const waiting = box.append('reading', readings(1, 1)).then(() => (appended = true));
    await new Promise((r) => setTimeout(r, 400));
    expect(appended).toBe(false); // still waiting for the lock (busy_timeout 5 s) ...
    expect(box.peekRun(10)?.seqs).toEqual([1]); // ... while this thread reads on
    other.exec('COMMIT');
    other.close();
    await waiting;
    expect(loop.stop()).toBeLessThan(300); // timers kept firing during the 400 ms wait
    expect(box.depth()).toBe(2);
  });
});
