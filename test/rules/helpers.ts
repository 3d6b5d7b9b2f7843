import { FarmConfig, type FarmConfigT } from '../../core/config/schema.js';
import type { AlertEvent, Reading } from '../../core/domain.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm, type FarmIndex } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { compileRule, instanceKey } from '../../rules/compile.js';
import { createRulesEngine, type RulesEngine, type RulesEngineOptions } from '../../rules/engine.js';
import { createRuleState, type RuleState } from '../../rules/evaluate.js';
import { Rule, type RuleT } from '../../rules/schema.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';
import { createMemoryStore, type MemoryStore } from './memory-store.js';
import type { Store } from '../../store/store.js';

export const T0 = Date.UTC(2024, 5, 1, 0, 0, 0);
export const SEC = 1000;
export const MIN = 60_000;
export const HOUR = 3_600_000;

/** A small farm: two sheds with fans and sprays (shed-1 with a fail-safe), two drain pipes and a rain gauge. */
export function farmConfig(rules: unknown[] = []): FarmConfigT {
  return FarmConfig.parse({
    sites: [
      {
        id: 'huyang',
        timezone: 'Asia/Shanghai',
        zones: [
          {
            id: 'shed-1',
            kind: 'shed',
            failsafe: { after: '10m', actuators: { fan: 'on' } },
            devices: [
              { id: 'shed-1-env', role: 'sensor', secret: 'dev-only-secret' },
              { id: 'shed-1-fan', role: 'actuator', type: 'fan' },
              { id: 'shed-1-spray', role: 'actuator', type: 'spray' },
            ],
          },
          {
            id: 'shed-2',
            kind: 'shed',
            devices: [
              { id: 'shed-2-env', role: 'sensor', secret: 'dev-only-secret' },
              { id: 'shed-2-fan', role: 'actuator', type: 'fan' },
            ],
          },
        ],
      },
      {
        id: 'city',
        timezone: 'Europe/Berlin',
        zones: [
          { id: 'pipe-1', kind: 'drain', devices: [{ id: 'pipe-1-level', role: 'sensor', secret: 'dev-only-secret' }] },
          { id: 'pipe-2', kind: 'drain', devices: [{ id: 'pipe-2-level', role: 'sensor', secret: 'dev-only-secret' }] },
          { id: 'gauge', kind: 'drain', devices: [{ id: 'rg-1', role: 'sensor', secret: 'dev-only-secret' }] },
        ],
      },
    ],
    rules,
  });
}

export const farm: FarmIndex = indexFarm(farmConfig());

export function reading(device: string, metrics: Record<string, number>, ts: number): Reading {
  const d = farm.device(device);
  if (!d) throw new Error(`no test device ${device}`);
  return { site: d.site, zone: d.zone, kind: d.kind, device, ts, metrics };
}

export function rule(raw: Record<string, unknown>): RuleT {
  return Rule.parse({ actions: [{ alert: { severity: 'warning' } }], ...raw });
}

/** A fresh instance of a rule for one device, as the engine would create it. */
export function stateFor(raw: Record<string, unknown>, device: string, now = T0): RuleState {
  const compiled = compileRule(rule(raw));
  const d = farm.device(device)!;
  const ref = compiled.def.per === 'zone' ? { site: d.site, zone: d.zone, kind: d.kind } : { site: d.site, zone: d.zone, kind: d.kind, device };
  return createRuleState(compiled, ref, instanceKey(compiled.id, ref), now, undefined, farm.timeZone(d.site));
}

export interface Published {
  topic: string;
  payload: any;
  qos: 0 | 1;
}

export interface Harness {
  engine: RulesEngine;
  clock: FakeClock;
  bus: FarmBus;
  store: MemoryStore;
  published: Published[];
  commands(device?: string): any[];
  alerts(): AlertEvent[];
  /** Emits a reading as ingest would (and stores it, as ingest does). */
  send(device: string, metrics: Record<string, number>, ts?: number): void;
  /** The actuator acknowledges a command by reporting its state. */
  ack(device: string, command: any, state?: 'on' | 'off'): void;
  /** Acknowledges every command published so far that was not yet acknowledged. */
  ackAll(): void;
}

export interface HarnessOptions {
  store?: Store;
  clock?: FakeClock;
  options?: Partial<RulesEngineOptions>;
  fetch?: typeof fetch;
  /** A whole farm file instead of the small test farm (the rules argument is then ignored). */
  config?: FarmConfigT;
  /** DATA_DIR for actuators.json and rules.json. */
  stateDir?: string;
}

export function harness(rules: unknown[], opts: HarnessOptions = {}): Harness {
  const config = opts.config ?? farmConfig(rules);
  const farmIndex = indexFarm(config);
  const clock = opts.clock ?? createFakeClock(T0);
  const store = (opts.store ?? createMemoryStore()) as MemoryStore;
  const bus = new FarmBus();
  const published: Published[] = [];
  const acked = new Set<string>();
  const alerts: AlertEvent[] = [];
  bus.on('alert', (e) => alerts.push(e));
  const engine = createRulesEngine(
    {
      config,
      farm: farmIndex,
      bus,
      store,
      clock,
      logger: silentLogger(),
      fetch: opts.fetch,
      stateDir: opts.stateDir,
      publish: async (topic, payload, o) => {
        published.push({ topic, payload: JSON.parse(payload), qos: o.qos });
      },
    },
    opts.options,
  );
  const h: Harness = {
    engine,
    clock,
    bus,
    store,
    published,
    commands: (device) => published.filter((p) => p.topic.endsWith('/cmd') && (!device || p.topic.includes(`/${device}/`))).map((p) => p.payload),
    alerts: () => alerts,
    send(device, metrics, ts = clock.now()) {
      const d = farmIndex.device(device);
      if (!d) throw new Error(`no device ${device} in the harness farm`);
      const r: Reading = { site: d.site, zone: d.zone, kind: d.kind, device, ts, metrics };
      void store.writeReadings([r]);
      bus.emit('reading', r);
    },
    ack(device, command, state) {
      const d = farmIndex.device(device)!;
      acked.add(command.id);
      bus.emit('actuatorState', {
        site: d.site,
        zone: d.zone,
        kind: d.kind,
        device,
        state: state ?? (command.action === 'off' ? 'off' : 'on'),
        value: command.value,
        ack: command.id,
        ts: clock.now(),
      });
    },
    ackAll() {
      for (const p of published) {
        if (!p.topic.endsWith('/cmd') || acked.has(p.payload.id)) continue;
        h.ack(p.topic.split('/')[3], p.payload);
      }
    },
  };
  return h;
}
