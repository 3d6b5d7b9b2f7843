import type { FarmIndex } from '../core/farm-index.js';
import type { FarmBus } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import { createGapTracker, MIN_GAP_MS } from './report-gaps.js';

/**
 * How often each device reports, so a screen can tell a value that is simply the latest from one that is old
 * (older than twice the interval: greyed, with its age). The farm file may say it (`reportEvery` on a device);
 * otherwise it is learned: the median gap between the device's last readings, seeded once from the store (the
 * readings of the last hour) so a restart of the service does not forget it.
 */
export interface ReportIntervals {
  /** The device's report interval in ms, undefined until known. */
  intervalMs(device: string): number | undefined;
  /** Learns the gaps between readings as they arrive (a FarmBus `reading`). */
  observe(device: string, ts: number): void;
  /** Devices not yet known: estimate them from the store (once per device; resolves when done). */
  seed(devices: readonly string[]): Promise<void>;
  stop(): void;
}

const SEED_WINDOW_MS = 3_600_000;
const SEED_BUCKET_MS = 60_000;

/**
 * A report interval from a window of minute buckets (count of readings of one metric in each): the time from the
 * first to the last reading over the readings in between. Undefined with fewer than three readings.
 */
export function intervalFromBuckets(buckets: readonly { ts: number; count: number }[], bucketMs: number): number | undefined {
  const filled = buckets.filter((b) => b.count > 0);
  const count = filled.reduce((n, b) => n + b.count, 0);
  if (count < 3) return undefined;
  const span = filled[filled.length - 1].ts + bucketMs - filled[0].ts;
  return Math.max(MIN_GAP_MS, span / count);
}

/**
 * `deps.farm` is read at each call, not kept: the farm file may be reloaded while the service runs (a getter then
 * gives the new one), and a changed or new `reportEvery` counts from then on.
 */
export function createReportIntervals(deps: {
  readonly farm: FarmIndex;
  store: Pick<Store, 'history'>;
  bus?: FarmBus;
  logger: Logger;
  now: () => number;
}): ReportIntervals {
  const configured = (device: string) => deps.farm.device(device)?.config.reportEvery;
  const gaps = createGapTracker();
  const seeded = new Map<string, number>();
  const tried = new Set<string>();
  const observe = (device: string, ts: number) => gaps.observe(device, ts);
  const onReading = (r: { device: string; ts: number }) => observe(r.device, r.ts);
  deps.bus?.on('reading', onReading);

  async function estimate(device: string): Promise<void> {
    const metric = deps.farm.device(device)?.config.metrics?.[0];
    if (!metric) return;
    const now = deps.now();
    const series = await deps.store.history({ device, metric, from: now - SEED_WINDOW_MS, to: now + 1, everyMs: SEED_BUCKET_MS });
    const ms = intervalFromBuckets(
      series.flatMap((s) => s.buckets),
      SEED_BUCKET_MS,
    );
    if (ms !== undefined) seeded.set(device, ms);
  }

  return {
    intervalMs(device) {
      return configured(device) ?? gaps.intervalMs(device) ?? seeded.get(device);
    },
    observe,
    async seed(devices) {
      const todo = devices.filter((d) => !tried.has(d) && configured(d) === undefined && deps.farm.device(d)?.role === 'sensor');
      for (const d of todo) tried.add(d);
      await Promise.all(
        todo.map((d) =>
          estimate(d).catch((err: Error) => {
            tried.delete(d); // try again with the next request
            deps.logger.debug({ device: d, err: err.message }, 'report interval not estimated from the store');
          }),
        ),
      );
    },
    stop: () => void deps.bus?.off('reading', onReading),
  };
}
