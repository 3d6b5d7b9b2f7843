import type { Logger } from 'pino';
import type { FarmConfigT } from '../core/config/schema.js';
import type { Reading } from '../core/domain.js';
import { indexFarm } from '../core/farm-index.js';
import type { Store } from '../store/store.js';
import { createFarmSimulation } from './farm-sim.js';

/**
 * The demo farm's first start: a week of simulated history written straight into the store, so the charts, the
 * rain totals and a rule's dry run have something to show from the first screen on. The farm simulation runs in
 * this process on its own clock (no broker, no ingest, no rules), from `days` ago up to now, one reading per sensor
 * every `stepSec`: about 45,000 readings for the demo farm, a few seconds. Only readings are written: no alert,
 * command or notification is made for the past (the rules engine, started afterwards, judges what the recent
 * readings say now, as after any restart). Skipped when the store holds any reading already, so it happens once.
 */
export interface BackfillOptions {
  days: number;
  /** Simulated seconds between two readings of one sensor (default 300: a 7-day chart has its hourly buckets full). */
  stepSec?: number;
  scenario?: string;
  seed?: number;
}

export interface BackfillResult {
  readings: number;
  fromTs: number;
  toTs: number;
  ms: number;
}

const BATCH = 2000;
const DAY_MS = 86_400_000;

export async function backfillHistory(
  deps: { farm: FarmConfigT; store: Store; logger: Logger; now?: () => number },
  o: BackfillOptions,
): Promise<BackfillResult | undefined> {
  if ((await deps.store.latest()).length > 0) return undefined;
  const started = Date.now();
  const toTs = (deps.now ?? Date.now)();
  const fromTs = toTs - o.days * DAY_MS;
  const stepSec = o.stepSec ?? 300;
  const index = indexFarm(deps.farm);
  const sim = createFarmSimulation({ farm: deps.farm, scenario: o.scenario ?? 'normal-day', seed: o.seed ?? 1, startTs: fromTs, reportEverySec: stepSec });
  deps.logger.info({ days: o.days, from: new Date(fromTs).toISOString() }, `first start of the demo farm: filling in ${o.days} days of simulated history …`);
  let batch: Reading[] = [];
  let written = 0;
  let day = 0;
  while (sim.now() < toTs) {
    for (const out of sim.advance(Math.min(stepSec, (toTs - sim.now()) / 1000))) {
      if (out.channel !== 'telemetry' || typeof out.payload === 'string') continue;
      const device = index.device(out.device);
      if (!device) continue;
      const payload = out.payload as { ts?: number; metrics?: Record<string, number>; readings?: { ts: number; metrics: Record<string, number> }[] };
      for (const r of payload.readings ?? [payload]) {
        if (typeof r.ts !== 'number' || !r.metrics || r.ts > toTs) continue;
        batch.push({ site: device.site, zone: device.zone, kind: device.kind, device: device.device, ts: r.ts, metrics: r.metrics });
      }
    }
    if (batch.length >= BATCH) {
      await deps.store.writeReadings(batch);
      written += batch.length;
      batch = [];
    }
    const done = Math.floor((sim.now() - fromTs) / DAY_MS);
    if (done > day && done < o.days) {
      day = done;
      deps.logger.info({ readings: written }, `history: ${day} of ${o.days} days`);
    }
  }
  if (batch.length > 0) await deps.store.writeReadings(batch);
  written += batch.length;
  const result = { readings: written, fromTs, toTs, ms: Date.now() - started };
  deps.logger.info(result, `history: ${o.days} days filled in (${written} readings in ${(result.ms / 1000).toFixed(1)} s)`);
  return result;
}
