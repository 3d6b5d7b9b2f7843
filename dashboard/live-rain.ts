import type { FarmBus } from '../core/events.js';

/**
 * Rain the dashboard has seen live in the last few minutes, per gauge. Ingest sends a reading live a moment before
 * its write is durable, so a drainage snapshot computed in that moment would not find it in the store; the snapshot
 * counts these too, once each (by device and ts), so the page's totals never lose rain it was already shown.
 */
export interface LiveRain {
  /** Rain readings of `device` stamped from `from` on, as seen live (at most `keepMs` old). */
  since(device: string, from: number): readonly { ts: number; mm: number }[];
  stop(): void;
}

export function createLiveRain(deps: { bus?: FarmBus; now: () => number; keepMs?: number }): LiveRain {
  const keepMs = deps.keepMs ?? 5 * 60_000;
  const byDevice = new Map<string, { ts: number; mm: number }[]>();
  const onReading = (r: { device: string; ts: number; metrics: Record<string, number> }) => {
    const mm = r.metrics.rain_mm;
    if (mm === undefined || !(mm > 0)) return;
    const cutoff = deps.now() - keepMs;
    const kept = (byDevice.get(r.device) ?? []).filter((p) => p.ts >= cutoff);
    if (r.ts >= cutoff) kept.push({ ts: r.ts, mm });
    byDevice.set(r.device, kept);
  };
  deps.bus?.on('reading', onReading);
  return {
    since: (device, from) => (byDevice.get(device) ?? []).filter((p) => p.ts >= from),
    stop: () => void deps.bus?.off('reading', onReading),
  };
}
