import type { AlertEvent } from '../core/domain.js';
import type { EventQuery, RawPoint, RawQuery, Store } from './store.js';

/**
 * Long ranges read a page at a time, so a year of readings never sits in memory (rule dry runs, CSV exports).
 * Raw points come oldest first; alert events newest first. Pages are cut at a time boundary: the points of the
 * last instant of a full page are left for the next page, which starts at that instant. A page of one instant
 * only is taken whole and the next starts just after it (a store answering more than `pageSize` values for one
 * millisecond would otherwise never move on).
 */
export async function* rawPages(store: Pick<Store, 'raw'>, q: RawQuery, pageSize = 10_000): AsyncGenerator<RawPoint[]> {
  let from = q.from;
  while (from < q.to) {
    const page = await store.raw({ ...q, from, limit: pageSize });
    if (page.length < pageSize) {
      if (page.length > 0) yield page;
      return;
    }
    const lastTs = page[page.length - 1].ts;
    const before = page.filter((p) => p.ts < lastTs);
    yield before.length > 0 ? before : page;
    from = before.length > 0 ? lastTs : lastTs + 1;
  }
}

export async function* alertPages(store: Pick<Store, 'alerts'>, q: EventQuery & { from: number; to: number }, pageSize = 5_000): AsyncGenerator<AlertEvent[]> {
  let to = q.to;
  let left = q.limit ?? Infinity;
  while (to > q.from && left > 0) {
    const page = await store.alerts({ ...q, to, limit: Math.min(pageSize, left) });
    if (page.length < Math.min(pageSize, left) || page.length >= left) {
      if (page.length > 0) yield page;
      return;
    }
    const oldestTs = page[page.length - 1].ts;
    const after = page.filter((a) => a.ts > oldestTs);
    const taken = after.length > 0 ? after : page;
    left -= taken.length;
    yield taken;
    to = after.length > 0 ? oldestTs + 1 : oldestTs;
  }
}
