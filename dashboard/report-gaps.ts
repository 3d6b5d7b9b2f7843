/**
 * The gaps between a device's readings, and the report interval they show (the median of the last few, so one
 * late or doubled report does not move it). Pure: the server (report-intervals.ts) and the page both use it.
 */
export interface GapTracker {
  observe(device: string, ts: number): void;
  /** The median gap once two gaps are known. */
  intervalMs(device: string): number | undefined;
}

/** Gaps kept per device. */
const KEEP = 9;
/** Readings closer than this are one report split over messages (a batch), not a report interval. */
export const MIN_GAP_MS = 500;

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function createGapTracker(): GapTracker {
  const last = new Map<string, number>();
  const gaps = new Map<string, number[]>();
  return {
    observe(device, ts) {
      const prev = last.get(device);
      if (prev !== undefined && ts - prev >= MIN_GAP_MS) {
        const list = gaps.get(device) ?? [];
        list.push(ts - prev);
        if (list.length > KEEP) list.shift();
        gaps.set(device, list);
      }
      if (prev === undefined || ts > prev) last.set(device, ts);
    },
    intervalMs(device) {
      const list = gaps.get(device);
      return list && list.length >= 2 ? median(list) : undefined;
    },
  };
}
