import type { ActuatorState, AlertEvent, Command, DeviceRef, DeviceStatus, Reading } from '../core/domain.js';
import type { FarmConfigT } from '../core/config/schema.js';
import type { FarmBus } from '../core/events.js';
import type { FarmIndex } from '../core/farm-index.js';
import type { Logger } from '../core/logger.js';
import type { CommandRecord, Store } from '../store/store.js';
import { applied, createEntry, reported, type LedgerEntry } from './actuators.js';
import { createActuation } from './actuation.js';
import { acknowledge, createAlertBook } from './alerts.js';
import { systemClock, type Clock } from './clock.js';
import { createCommandDispatcher, type Publish } from './commands.js';
import { compileRule } from './compile.js';
import { DEFAULT_OPTIONS, type EngineContext, type RulesEngineOptions } from './context.js';
import { withDerivedMetrics } from './derived.js';
import { dryRun } from './dry-run.js';
import { createDurableState } from './durable.js';
import { createCarrier } from './effects.js';
import { evaluate, type ActuatorReport, type RuleState } from './evaluate.js';
import { createFailsafe } from './failsafe.js';
import { createFloors } from './floors.js';
import type { LocalRulesHandle } from './handle.js';
import { createHerdWatch, type HerdSource } from './herd-watch.js';
import { createInstanceSet } from './instances.js';
import { createNotifier } from './notify.js';
import { createOperators } from './operators.js';
import { createBatchWriter } from './persist.js';
import { rebuildRuleStates, reconcileWithAlerts, seedActuators, seedFromStore } from './recover.js';
import { unknownReferences } from './references.js';
import { replaceRules } from './replace.js';
import type { RuleT } from './schema.js';

export type { RulesEngineOptions } from './context.js';

export interface RulesEngineDeps {
  config: FarmConfigT;
  farm: FarmIndex;
  bus: FarmBus;
  store: Store;
  /** MQTT publish of the process's service client (commands QoS 1 on .../cmd, alerts QoS 1 on .../alert). */
  publish: Publish;
  clock?: Clock;
  logger: Logger;
  fetch?: typeof fetch;
  /**
   * Where actuator modes (with operator holds) and rules replaced over the API are kept across restarts
   * (DATA_DIR: actuators.json, rules.json). Without it they last as long as the process.
   */
  stateDir?: string;
  /** The herd (animals/herd.ts): with it, the missing-animal and head-count alerts are raised here. */
  herd?: HerdSource;
}

export type RulesEngine = LocalRulesHandle & {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once alerts and command records queued so far are in the store (and webhooks delivered or given up). */
  flush(): Promise<void>;
  /** Runs one tick now (the tick loop does this every tickMs). */
  tick(): void;
  /** What each instance of a rule holds now: its leaves' values (a window's aggregate), active, level (-1: none). */
  instanceStates(ruleId: string): InstanceView[];
};

export interface InstanceView {
  key: string;
  device?: string;
  active: boolean;
  level: number;
  values: (number | undefined)[];
}

/**
 * The rules engine: listens to readings and actuator states on the FarmBus, evaluates rules with the pure
 * evaluator, and carries out the effects (commands, alerts, webhooks). Evaluation is synchronous per
 * reading; everything slow (MQTT publish, store writes, webhooks) is started and not awaited.
 */
export function createRulesEngine(deps: RulesEngineDeps, options: Partial<RulesEngineOptions> = {}): RulesEngine {
  const opts: RulesEngineOptions = { ...DEFAULT_OPTIONS, ...options };
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger.child({ component: 'rules' });
  const lastSeen = new Map<string, number>();
  const seenAt = (site: string, zone: string, device?: string): number | undefined => {
    if (device) return lastSeen.get(device);
    const times = (deps.farm.zone(site, zone)?.devices ?? []).map((d) => lastSeen.get(d.device)).filter((t): t is number => t !== undefined);
    return times.length > 0 ? Math.max(...times) : undefined;
  };
  const ledger = new Map<string, LedgerEntry>(
    deps.farm
      .devices()
      .filter((d) => d.role === 'actuator')
      .map((d) => [d.device, createEntry(d.device)]),
  );
  const reports = new Map<string, ActuatorState>();
  const alertLog = createBatchWriter<AlertEvent>((events) => deps.store.writeAlerts(events), logger, 'alerts', { clock });
  const commandLog = createBatchWriter<CommandRecord>((records) => deps.store.writeCommands(records), logger, 'command records', { clock });
  const durable = createDurableState({ stateDir: deps.stateDir, ledger, logger, clock, operatorHoldMs: deps.config.operatorHold });
  const notifier = createNotifier({ fetch: deps.fetch ?? fetch, clock, logger, maxAttempts: opts.notifyMaxAttempts, baseDelayMs: opts.notifyBaseDelayMs });
  // The dispatcher reports failures through the carrier, which needs the context that holds the dispatcher.
  let onFailed: (ref: DeviceRef, command: Command, attempts: number) => void = () => {};
  const dispatcher = createCommandDispatcher({
    topicRoot: opts.topicRoot,
    ackTimeoutMs: opts.ackTimeoutMs,
    maxRetries: opts.maxRetries,
    publish: deps.publish,
    bus: deps.bus,
    logger,
    records: commandLog,
    onFailed: (ref, command, attempts) => onFailed(ref, command, attempts),
  });
  const ctx: EngineContext = {
    config: deps.config,
    farm: deps.farm,
    bus: deps.bus,
    store: deps.store,
    publish: deps.publish,
    clock,
    logger,
    options: opts,
    set: createInstanceSet(deps.farm, seenAt),
    book: createAlertBook(),
    ledger,
    dispatcher,
    notifier,
    alertLog,
    lastSeen,
    seenAt,
    startedAt: clock.now(),
  };
  const floors = createFloors(ctx);
  // The carrier emits alerts for the actuation (hold overrides) and hands it the holds to settle.
  const actuation = createActuation({ ...ctx, floors, emitAlert: (event) => carrier.emitAlert(event), namesZh: (...place) => carrier.namesZh(...place) });
  const carrier = createCarrier(ctx, actuation);
  onFailed = carrier.actuatorFailed;
  const operators = createOperators({ ...ctx, durable, actuation, floors, reports });
  const failsafe = createFailsafe(ctx, carrier);
  const herdWatch = deps.herd ? createHerdWatch(ctx, carrier, deps.herd) : undefined;
  let defs: RuleT[] = deps.config.rules;
  let timer: unknown;
  let running = false;

  function onReading(raw: Reading): void {
    // A bug in one rule must not throw into ingest's emit; it is logged with the reading that caused it.
    try {
      const now = clock.now();
      const reading = withDerivedMetrics(raw);
      lastSeen.set(reading.device, now);
      failsafe.heard(reading.device, now);
      const input = { type: 'reading' as const, reading };
      for (const st of ctx.set.route(reading, now)) {
        for (const e of evaluate(st, input, now).effects) carrier.onEffect(st, e);
      }
    } catch (err) {
      logger.error({ err, device: raw.device }, 'evaluating a reading failed');
    }
  }

  /** Actuator conditions ("a fan on for 20 min") follow what the actuators report. */
  function watchActuators(report: ActuatorReport, states: Iterable<RuleState>, now: number): void {
    for (const st of states) for (const e of evaluate(st, { type: 'actuator', report }, now).effects) carrier.onEffect(st, e);
  }

  /** Tells instances that watch actuators what every actuator last reported (new instances after start or a replace). */
  function feedKnownReports(now: number): void {
    for (const [device, r] of reports) {
      const d = deps.farm.device(device);
      if (d?.type) watchActuators({ site: d.site, zone: d.zone, device, type: d.type, on: r.state === 'on' }, ctx.set.watchingActuators(), now);
    }
  }

  function onActuatorState(s: DeviceRef & ActuatorState): void {
    const entry = ledger.get(s.device);
    if (!entry) return;
    const now = clock.now();
    reports.set(s.device, { state: s.state, value: s.value, ack: s.ack, ts: s.ts });
    const type = deps.farm.device(s.device)?.type;
    if (type) {
      try {
        watchActuators({ site: s.site, zone: s.zone, device: s.device, type, on: s.state === 'on' }, ctx.set.watchingActuators(), now);
      } catch (err) {
        logger.error({ err, device: s.device }, 'evaluating an actuator state failed');
      }
    }
    const acked = dispatcher.onState(s.device, s.ack, now) !== undefined;
    carrier.actuatorHeard(s.device, now);
    const says = s.state === 'on' ? { action: 'on' as const, value: s.value } : { action: 'off' as const };
    if (!entry.applied) return reported(entry, says, now);
    // Drift: the actuator is not in the state last commanded and nothing is on its way (it was switched
    // locally, or missed a command while away). In auto mode the holders' state is put back.
    const believedOn = entry.applied.action !== 'off';
    if (!acked && !dispatcher.pending(s.device) && believedOn !== (s.state === 'on')) {
      applied(entry, says, now);
      if (entry.mode === 'auto') actuation.settle([[entry, { kind: 'auto', cause: 'drift' }]], now);
    }
  }

  function tick(): void {
    const now = clock.now();
    try {
      for (const st of ctx.set.timed()) for (const e of evaluate(st, { type: 'tick' }, now).effects) carrier.onEffect(st, e);
      dispatcher.tick(now);
      operators.tick(now);
      failsafe.tick(now);
      herdWatch?.tick(now);
    } catch (err) {
      logger.error({ err }, 'rules tick failed');
    }
  }

  function loop(): void {
    if (!running) return;
    tick();
    timer = clock.setTimeout(loop, opts.tickMs);
  }

  function warnUnknown(list: RuleT[]): void {
    for (const def of list) {
      const unknown = unknownReferences(def, deps.farm);
      if (unknown.length > 0)
        logger.warn(
          { rule: def.id, unknown },
          `rule "${def.id}" names what this engine's farm does not have (${unknown.join(', ')}): it will not act there; check the ids`,
        );
    }
    // The farm file checks its floors against its own rules; rules replaced over the API may drop one.
    const ids = new Set(defs.map((d) => d.id));
    for (const z of deps.farm.zones())
      for (const f of z.config.floors ?? []) {
        const gone = f.while.filter((id) => !ids.has(id));
        if (gone.length > 0)
          logger.warn(
            { zone: `${z.site}/${z.zone}`, floor: f.id, gone },
            `floor "${f.id}" of ${z.zone} names rules that are not running (${gone.join(', ')}): it is never in force for them; put the rules back or edit the floor`,
          );
      }
  }

  const onReadingListener = (r: Reading) => onReading(r);
  const onStateListener = (s: DeviceRef & ActuatorState) => onActuatorState(s);
  const onStatusListener = (s: DeviceRef & { status: DeviceStatus }) => {
    if (ledger.has(s.device)) dispatcher.onStatus(s.device, s.status === 'online', clock.now());
  };

  return {
    async start() {
      if (running) return;
      ctx.startedAt = clock.now();
      defs = durable.load(deps.config.rules);
      warnUnknown(defs);
      // A store that cannot answer (InfluxDB down while the service restarts) must not keep the rules from running:
      // they start from what the store could give, and readings are kept in the outbox meanwhile.
      await seedFromStore(ctx).catch((err: Error) =>
        logger.error({ err: err.message }, 'cannot read last readings and open alerts at start: starting without them'),
      );
      const lastReasons = await seedActuators(ctx);
      for (const def of defs) {
        if (!def.enabled) continue;
        ctx.set.add(compileRule(def), ctx.startedAt);
        for (const p of ctx.set.problems(def.id))
          logger.warn({ rule: def.id, site: p.site, zone: p.zone }, `rule "${def.id}" does not apply to ${p.site}/${p.zone}: ${p.problem}`);
      }
      const saw = await rebuildRuleStates(ctx).catch((err: Error) => {
        logger.error({ err: err.message }, 'cannot read stored readings at start: rule conditions start fresh');
        return new Set<never>();
      });
      reconcileWithAlerts(ctx, carrier, failsafe, saw);
      // Whatever was commanded before the restart and is no longer held (or is held differently) is put right
      // now, and every zone's floors are decided.
      actuation.settle(
        [...ledger.values()].map((e) => [e, lastReasons.get(e.device)]),
        clock.now(),
        deps.farm.zones(),
      );
      deps.bus.on('reading', onReadingListener);
      deps.bus.on('actuatorState', onStateListener);
      deps.bus.on('status', onStatusListener);
      running = true;
      timer = clock.setTimeout(loop, opts.tickMs);
      logger.info({ rules: defs.length, alerts: ctx.book.active.size }, 'rules engine started');
    },
    async stop() {
      running = false;
      if (timer !== undefined) clock.clearTimeout(timer);
      deps.bus.off('reading', onReadingListener);
      deps.bus.off('actuatorState', onStateListener);
      deps.bus.off('status', onStatusListener);
      notifier.stop();
      alertLog.stop();
      commandLog.stop();
      await Promise.all([alertLog.flush(), commandLog.flush()]);
    },
    async flush() {
      await Promise.all([alertLog.flush(), commandLog.flush(), notifier.idle()]);
    },
    tick,
    instanceStates: (ruleId) =>
      ctx.set.statesOf(ruleId).map((st) => ({ key: st.key, device: st.device, active: st.active, level: st.level, values: st.leaves.map((l) => l.value) })),
    rules: () => defs,
    replaceRules(raw) {
      const persist = (next: RuleT[]) => durable.saveRules(deps.config.rules, next);
      const { result, rules } = replaceRules(ctx, carrier, defs, raw, persist);
      if (result.ok) feedKnownReports(clock.now());
      if (rules) {
        defs = rules;
        warnUnknown(result.ok ? defs.filter((d) => result.changed.includes(d.id)) : []);
      }
      return result;
    },
    dryRun: (raw, from, to) => dryRun(ctx, raw, from, to),
    activeAlerts: () => [...ctx.book.active.values()].sort((a, b) => b.ts - a.ts),
    acknowledge(alertId, user) {
      const res = acknowledge(ctx.book, alertId, user, clock.now());
      if (res?.changed) carrier.emitAlert(res.event, carrier.notifyTargets(res.event.rule));
      return res?.event;
    },
    actuators: () => operators.actuators(),
    command: (deviceId, action, value, user, request) => operators.command(deviceId, action, value, user, request),
    setMode: (deviceId, mode, untilMs, user) => operators.setMode(deviceId, mode, untilMs, user),
  };
}
