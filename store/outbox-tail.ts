import type { OutboxKind } from './outbox.js';

/**
 * The back of the outbox as it was appended, kept in memory so the drainer, which mostly sends what was appended
 * moments before, takes a run of readings' lines from here instead of reading it back from SQLite (that read was
 * 6 % of the event loop at full load, issue 18). Trusted only while it holds every entry from the front of the
 * outbox on: not after a restart with a backlog, nor once it grew past `maxEntries` (an InfluxDB outage), until the
 * outbox has been empty again. Other kinds are tracked by their numbers only; their runs are read from SQLite.
 * Pure bookkeeping: the outbox calls it once a write is committed, in the order the writes were made.
 */
interface Chunk {
  kind: OutboxKind;
  /** Number of the first entry; the chunk holds first .. first + lines.length - 1 (or count for other kinds). */
  first: number;
  count: number;
  lines?: string[];
  /** lines joined by "\n", made on first use. */
  text?: string;
}

export interface OutboxTail {
  /** Entries first .. first + count - 1 were appended (committed); `lines` for readings kept as lines. */
  appended(kind: OutboxKind, first: number, count: number, lines?: readonly string[]): void;
  /** Entries up to `upToSeq` left the outbox; `depthAfter` is what it holds now. */
  removed(upToSeq: number, depthAfter: number): void;
  /** Something went wrong that the tail cannot follow (a writer thread died): read from SQLite until empty again. */
  invalidate(): void;
  /**
   * The run of lines at the front, up to `max` entries: 'empty' when the outbox holds nothing, undefined when the
   * tail cannot tell (ask SQLite), else the text (one line each) and the entries' numbers.
   */
  frontLines(max: number): { text: string; first: number; count: number } | 'empty' | undefined;
}

export function createOutboxTail(o: { complete: boolean; maxEntries: number }): OutboxTail {
  let chunks: Chunk[] = [];
  let entries = 0;
  let complete = o.complete;

  function invalidate() {
    chunks = [];
    entries = 0;
    complete = false;
  }

  return {
    appended(kind, first, count, lines) {
      if (!complete || count === 0) return;
      if (entries + count > o.maxEntries) return invalidate();
      chunks.push({ kind, first, count, lines: lines ? [...lines] : undefined });
      entries += count;
    },
    removed(upToSeq, depthAfter) {
      let drop = 0;
      while (drop < chunks.length && chunks[drop].first + chunks[drop].count - 1 <= upToSeq) entries -= chunks[drop++].count;
      if (drop > 0) chunks = chunks.slice(drop);
      const head = chunks[0];
      if (head && head.first <= upToSeq) {
        const gone = upToSeq - head.first + 1;
        head.first += gone;
        head.count -= gone;
        head.lines = head.lines?.slice(gone);
        head.text = undefined;
        entries -= gone;
      }
      if (depthAfter === 0) {
        // Everything committed so far is gone: what is appended from now on is the whole outbox again.
        chunks = [];
        entries = 0;
        complete = true;
      }
    },
    invalidate,
    frontLines(max) {
      if (!complete) return undefined;
      if (chunks.length === 0) return 'empty';
      if (chunks[0].kind !== 'readingLine') return undefined;
      const texts: string[] = [];
      let count = 0;
      for (const c of chunks) {
        if (c.kind !== 'readingLine' || count >= max || (count > 0 && c.first !== chunks[0].first + count)) break;
        const take = Math.min(c.count, max - count);
        texts.push(take === c.count ? (c.text ??= c.lines!.join('\n')) : c.lines!.slice(0, take).join('\n'));
        count += take;
      }
      return { text: texts.join('\n'), first: chunks[0].first, count };
    },
  };
}
