import type { TagRead } from '../core/domain.js';
import { isNewer } from './register.js';

/**
 * An animal's moves from its reads (pure): each gate read that changed where the animal is. Reads come newest
 * first (as the store answers); moves are returned newest first too. The first gate read of the window is a
 * move (where it was before the window is not looked up).
 */
export interface Move {
  ts: number;
  device: string;
  site: string;
  zone: string;
  /** in: into `zone`; out: out of `zone` through its gate. */
  direction: 'in' | 'out';
}

export function movesOf(readsNewestFirst: readonly TagRead[]): Move[] {
  const gate = readsNewestFirst.filter((r) => r.direction).sort((a, b) => (isNewer(a, b) ? 1 : isNewer(b, a) ? -1 : 0));
  const moves: Move[] = [];
  let at: string | undefined;
  for (const r of gate) {
    const where = `${r.direction}|${r.site}/${r.zone}`;
    if (where !== at) moves.push({ ts: r.ts, device: r.device, site: r.site, zone: r.zone, direction: r.direction! });
    at = where;
  }
  return moves.reverse();
}
