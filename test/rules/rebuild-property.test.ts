import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics } from '../../core/observability.js';
import { createIngest, type Ingest } from '../../ingest/ingest.js';
import { createRulesEngine, type InstanceView, type RulesEngine } from '../../rules/engine.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import type { Store } from '../../store/store.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';
import { farmConfig, HOUR, MIN, SEC, T0 } from './helpers.js';

/**
 * Property: whatever order, repetition and lateness rain readings arrive in, and with a restart (the store reopened,
 * ingest and the rules engine started anew) somewhere in the middle, the live engine's hourly rain sum and alert
 * level for every gauge equal what a rules engine rebuilt from the store at that moment says, and both equal the
 * sum of the first accepted value of each (device, ts) in (now - 1 h, now]. Duplicates are counted exactly.
 *
 * Everything is real but the clock: real ingest (validation, ledger, group commit), the embedded SQLite store, the
 * rules engine; readings go in as MQTT payloads through ingest's handleMessage.
 */
const RULE = {
  id: 'rain-1h',
  scope: { site: 'city' },
  when: {
    metric: 'rain_mm',
    window: '1h',
    agg: 'sum',
    // Values are multiples of 0.5 mm, so sums never sit exactly on a threshold (no hysteresis needed to be exact).
    levels: [
      { name: 'blue', above: 10.25, severity: 'info' },
      { name: 'red', above: 20.25, severity: 'critical' },
    ],
  },
  actions: [{ alert: { severity: 'warning', message: 'rain {value} mm in 1 h at {device}' } }],
};
const config = farmConfig([RULE]);
const farm = indexFarm(config);
const GAUGES = ['rg-1', 'pipe-1-level'];
const topic = (device: string) => {
  const d = farm.device(device)!;
  return `farm/${d.site}/${d.zone}/${device}/telemetry`;
};

type Step =
  | { kind: 'send'; gauge: number; readings: { ageSec: number; halfMm: number }[] }
  | { kind: 'resend'; pick: number }
  | { kind: 'resendOtherValue'; pick: number }
  | { kind: 'advance'; sec: number }
  | { kind: 'restart' };

// Any age up to 75 min, and often just inside or outside the 1 h window, where a late reading is easiest to miscount.
const AGE = fc.oneof(fc.integer({ min: 0, max: 75 * 60 }), fc.integer({ min: 3600 - 20, max: 3600 + 5 }));
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      gauge: fc.integer({ min: 0, max: 1 }),
      readings: fc.array(fc.record({ ageSec: AGE, halfMm: fc.integer({ min: 0, max: 16 }) }), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('resend' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resendOtherValue' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), sec: fc.oneof(fc.integer({ min: 1, max: 40 * 60 }), fc.integer({ min: 1, max: 15 })) }),
  },
);

interface Live {
  store: Store;
  ingest: Ingest;
  engine: RulesEngine;
  metrics: ReturnType<typeof createMetrics>;
}

async function startLive(dataDir: string, clock: FakeClock): Promise<Live> {
  const store = createSqliteStore({ dataDir, logger: silentLogger() });
  await store.init();
  const bus = new FarmBus();
  const metrics = createMetrics();
  const ingest = createIngest(
    { farm: () => farm, store, bus, logger: silentLogger(), metrics, clock },
    { topicRoot: 'farm', maxPayloadBytes: 65536, maxFutureMs: 5 * MIN, maxPastMs: 365 * 24 * HOUR, batchSize: 1000, batchIntervalMs: 1, rejectsKept: 10 },
  );
  const engine = createRulesEngine({ config, farm, bus, store, clock, logger: silentLogger(), publish: async () => {} });
  await engine.start();
  return { store, ingest, engine, metrics };
}

/** A second engine that only reads the store: what a restart would rebuild right now. */
async function rebuilt(store: Store, clock: FakeClock): Promise<InstanceView[]> {
  const readOnly: Store = { ...store, writeAlerts: async () => {}, writeCommands: async () => {}, close: async () => {} };
  const engine = createRulesEngine({ config, farm, bus: new FarmBus(), store: readOnly, clock, logger: silentLogger(), publish: async () => {} });
  await engine.start();
  const states = engine.instanceStates(RULE.id);
  await engine.stop();
  return states;
}

const view = (states: InstanceView[]) =>
  Object.fromEntries(
    GAUGES.map((g) => {
      const st = states.find((s) => s.device === g);
      return [g, { sum: st?.values[0] ?? 0, level: st?.active ? st.level : -1 }];
    }),
  );

describe('live rules engine and a rebuild from the store agree (property)', () => {
  it('for random streams with duplicates, reordering, late arrivals and a restart', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 4, maxLength: 14 }), fc.nat(), async (steps, restartAt) => {
        const withRestart: Step[] = [...steps];
        withRestart.splice(restartAt % (steps.length + 1), 0, { kind: 'restart' });
        const dataDir = await mkdtemp(join(tmpdir(), 'farm-prop-'));
        const clock = createFakeClock(T0 + 2 * HOUR);
        let live = await startLive(dataDir, clock);
        const sent: { device: string; payload: Record<string, unknown> }[] = [];
        const accepted = new Map<string, number>(); // "device|ts" -> first value
        let duplicates = 0;
        let duplicatesBefore = 0;
        const deliver = async (device: string, payload: Record<string, unknown>) => {
          for (const r of payload.readings as { ts: number; metrics: { rain_mm: number } }[]) {
            const key = `${device}|${r.ts}`;
            if (accepted.has(key)) duplicates++;
            else accepted.set(key, r.metrics.rain_mm);
          }
          await live.ingest.handleMessage(topic(device), Buffer.from(JSON.stringify(payload)));
        };
        try {
          for (const step of withRestart) {
            if (step.kind === 'send') {
              const device = GAUGES[step.gauge];
              const payload = { readings: step.readings.map((r) => ({ ts: clock.now() - r.ageSec * SEC, metrics: { rain_mm: r.halfMm / 2 } })) };
              sent.push({ device, payload });
              await deliver(device, payload);
            } else if ((step.kind === 'resend' || step.kind === 'resendOtherValue') && sent.length > 0) {
              const earlier = sent[step.pick % sent.length];
              const payload =
                step.kind === 'resend'
                  ? earlier.payload
                  : {
                      readings: (earlier.payload.readings as { ts: number; metrics: { rain_mm: number } }[]).map((r) => ({
                        ts: r.ts,
                        metrics: { rain_mm: r.metrics.rain_mm + 7 },
                      })),
                    };
              await deliver(earlier.device, payload);
            } else if (step.kind === 'advance') {
              clock.advance(step.sec * SEC);
            } else if (step.kind === 'restart') {
              duplicatesBefore += await counted(live);
              await live.engine.stop();
              await live.ingest.stop();
              await live.store.close();
              live = await startLive(dataDir, clock);
            }
            await live.engine.flush();
            const now = clock.now();
            const expected = Object.fromEntries(
              GAUGES.map((g) => {
                let sum = 0;
                for (const [key, v] of accepted) {
                  const [device, ts] = key.split('|');
                  if (device === g && Number(ts) > now - HOUR && Number(ts) <= now) sum += v;
                }
                return [g, { sum, level: sum > 20.25 ? 1 : sum > 10.25 ? 0 : -1 }];
              }),
            );
            const liveView = view(live.engine.instanceStates(RULE.id));
            expect(liveView, `live engine after ${step.kind}`).toEqual(expected);
            expect(view(await rebuilt(live.store, clock)), `rebuild from the store after ${step.kind}`).toEqual(liveView);
            // Every alert the live engine has open is the one its state calls for, with the level the store supports.
            const open = live.engine.activeAlerts().filter((a) => a.rule === RULE.id);
            expect(Object.fromEntries(GAUGES.map((g) => [g, open.find((a) => a.device === g)?.level ?? null]))).toEqual(
              Object.fromEntries(GAUGES.map((g) => [g, expected[g].level === 1 ? 'red' : expected[g].level === 0 ? 'blue' : null])),
            );
            expect(duplicatesBefore + (await counted(live))).toBe(duplicates);
          }
        } finally {
          await live.engine.stop();
          await live.ingest.stop();
          await live.store.close();
          await rm(dataDir, { recursive: true, force: true });
        }
      }),
      { numRuns: 25 },
    );
  }, 300_000);
});

async function counted(live: Live): Promise<number> {
  return (await live.metrics.duplicates.get()).values[0]?.value ?? 0;
}
