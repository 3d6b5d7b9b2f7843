import type { ActuatorState, AlertEvent, Command, DeviceRef, Reading } from '../core/domain.js';
import type { FarmConfigT } from '../core/config/schema.js';
import type { FarmBus } from '../core/events.js';
import type { FarmIndex } from '../core/farm-index.js';
import type { Logger } from '../core/logger.js';
import type { CommandRecord, Store } from '../store/store.js';
import { applied, createEntry, expireManual, hold, releaseOperators, reported, setMode, type LedgerEntry } from './actuators.js';
import { formatReason, type Holder } from './holders.js';
import { acknowledge, createAlertBook } from './alerts.js';
import { systemClock, type Clock } from './clock.js';
import { createCommandDispatcher, type Publish } from './commands.js';
import { compileRule } from './compile.js';
import { DEFAULT_OPTIONS, type EngineContext, type RulesEngineOptions } from './context.js';
import { withDerivedMetrics } from './derived.js';
import { dryRun } from './dry-run.js';
import { createDurableState } from './durable.js';
import { createCarrier } from './effects.js';
import { evaluate } from './evaluate.js';
import { createFailsafe } from './failsafe.js';
import { ActuatorError, type ActuatorView, type LocalRulesHandle } from './handle.js';
import { createInstanceSet } from './instances.js';
import { createNotifier } from './notify.js';
import { createBatchWriter } from './persist.js';
import { rebuildRuleStates, reconcileWithAlerts, seedActuators, seedFromStore } from './recover.js';
import { unknownReferences } from './references.js';
import { replaceRules } from './replace.js';
import type { RuleT } from './schema.js';

export type { RulesEngineOptions } from './context.js';

/** Holders as shown to operators: rule ids, `manual:<user>`, `failsafe`. */
function holderNames(e: LedgerEntry): string[] {
  const name = (h: Holder) => (h.kind === 'rule' ? h.rule : h.kind === 'operator' ? formatReason({ kind: 'operator', user: h.user }) : 'failsafe');
  return [...new Set([...e.holds.values()].map((h) => name(h.holder)))];
}

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
}

export type RulesEngine = LocalRulesHandle & {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once alerts and command records queued so far are in the store (and webhooks delivered or given up). */
  flush(): Promise<void>;
  /** Runs one tick now (the tick loop does this every tickMs). */
  tick(): void;
};

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
  const ledger = new Map<string, LedgerEntry>(deps.farm.devices().filter((d) => d.role === 'actuator').map((d) => [d.device, createEntry(d.device)]));
  const reports = new Map<string, ActuatorState>();
  const alertLog = createBatchWriter<AlertEvent>((events) => deps.store.writeAlerts(events), logger, 'alerts', { clock });
  const commandLog = createBatchWriter<CommandRecord>((records) => deps.store.writeCommands(records), logger, 'command records', { clock });
  const durable = createDurableState({ stateDir: deps.stateDir, ledger, logger, clock });
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
  const carrier = createCarrier(ctx);
  onFailed = carrier.actuatorFailed;
  const failsafe = createFailsafe(ctx, carrier);
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
      for (const st of ctx.set.route(reading, now)) {
        for (const e of evaluate(st, { type: 'reading', reading }, now).effects) carrier.onEffect(st, e);
      }
    } catch (err) {
      logger.error({ err, device: raw.device }, 'evaluating a reading failed');
    }
  }

  function onActuatorState(s: DeviceRef & ActuatorState): void {
    const entry = ledger.get(s.device);
    if (!entry) return;
    const now = clock.now();
    reports.set(s.device, { state: s.state, value: s.value, ack: s.ack, ts: s.ts });
    const acked = dispatcher.onState(s.device, s.ack, now) !== undefined;
    carrier.actuatorHeard(s.device, now);
    const says = s.state === 'on' ? { action: 'on' as const, value: s.value } : { action: 'off' as const };
    if (!entry.applied) return reported(entry, says, now);
    // Drift: the actuator is not in the state last commanded and nothing is on its way (it was switched
    // locally, or missed a command while away). In auto mode the holders' state is put back.
    const believedOn = entry.applied.action !== 'off';
    if (!acked && !dispatcher.pending(s.device) && believedOn !== (s.state === 'on')) {
      applied(entry, says, now);
      if (entry.mode === 'auto') carrier.reconcile(entry, now, { kind: 'auto', cause: 'drift' });
    }
  }

  function tick(): void {
    const now = clock.now();
    try {
      for (const st of ctx.set.timed()) for (const e of evaluate(st, { type: 'tick' }, now).effects) carrier.onEffect(st, e);
      dispatcher.tick(now);
      for (const entry of ledger.values()) {
        if (expireManual(entry, now)) {
          try {
            durable.saveModes();
          } catch (err) {
            logger.error({ err, device: entry.device }, 'manual mode expired but could not be saved: after a restart the actuator would be manual again until its expiry passes');
          }
          emitMode(entry, undefined);
          carrier.reconcile(entry, now, { kind: 'auto', cause: 'manual-ended' });
        } else if (entry.deferUntil !== undefined && now >= entry.deferUntil) {
          carrier.reconcile(entry, now);
        }
      }
      failsafe.tick(now);
    } catch (err) {
      logger.error({ err }, 'rules tick failed');
    }
  }

  function loop(): void {
    if (!running) return;
    tick();
    timer = clock.setTimeout(loop, opts.tickMs);
  }

  function actuator(deviceId: string): { entry: LedgerEntry; ref: DeviceRef & { type?: string } } {
    const d = deps.farm.device(deviceId);
    if (!d) throw new ActuatorError('NOT_FOUND', `no device "${deviceId}" in the farm configuration`);
    const entry = ledger.get(deviceId);
    if (d.role !== 'actuator' || !entry) throw new ActuatorError('NOT_ACTUATOR', `"${deviceId}" is a sensor; only actuators take commands`);
    return { entry, ref: { site: d.site, zone: d.zone, kind: d.kind, device: d.device, type: d.type } };
  }

  function view(entry: LedgerEntry): ActuatorView {
    const { ref } = actuator(entry.device);
    const r = reports.get(entry.device);
    const v: ActuatorView = { site: ref.site, zone: ref.zone, kind: ref.kind, device: ref.device, type: ref.type ?? '', mode: entry.mode, holders: holderNames(entry) };
    if (entry.manualUntil !== undefined) v.manualUntil = entry.manualUntil;
    if (r) Object.assign(v, { state: r.state, value: r.value, stateTs: r.ts });
    const pending = dispatcher.pending(entry.device);
    if (pending) v.pending = pending;
    return v;
  }

  function emitMode(entry: LedgerEntry, by: string | undefined): void {
    const { ref } = actuator(entry.device);
    deps.bus.emit('actuatorMode', { site: ref.site, zone: ref.zone, kind: ref.kind, device: ref.device, mode: entry.mode, until: entry.manualUntil, by });
  }

  function warnUnknown(list: RuleT[]): void {
    for (const def of list) {
      const unknown = unknownReferences(def, deps.farm);
      if (unknown.length > 0) logger.warn({ rule: def.id, unknown }, `rule "${def.id}" names what this engine's farm does not have (${unknown.join(', ')}): it will not act there; check the ids`);
    }
  }

  const onReadingListener = (r: Reading) => onReading(r);
  const onStateListener = (s: DeviceRef & ActuatorState) => onActuatorState(s);

  return {
    async start() {
      if (running) return;
      ctx.startedAt = clock.now();
      defs = durable.load(deps.config.rules);
      warnUnknown(defs);
      // A store that cannot answer (InfluxDB down while the service restarts) must not keep the rules from running:
      // they start from what the store could give, and readings are kept in the outbox meanwhile.
      await seedFromStore(ctx).catch((err: Error) => logger.error({ err: err.message }, 'cannot read last readings and open alerts at start: starting without them'));
      const lastReasons = await seedActuators(ctx);
      for (const def of defs) if (def.enabled) ctx.set.add(compileRule(def), ctx.startedAt);
      const saw = await rebuildRuleStates(ctx).catch((err: Error) => {
        logger.error({ err: err.message }, 'cannot read stored readings at start: rule conditions start fresh');
        return new Set<never>();
      });
      reconcileWithAlerts(ctx, carrier, failsafe, saw);
      // Whatever was commanded before the restart and is no longer held (or is held differently) is put right now.
      for (const entry of ledger.values()) carrier.reconcile(entry, clock.now(), lastReasons.get(entry.device));
      deps.bus.on('reading', onReadingListener);
      deps.bus.on('actuatorState', onStateListener);
      running = true;
      timer = clock.setTimeout(loop, opts.tickMs);
      logger.info({ rules: defs.length, alerts: ctx.book.active.size }, 'rules engine started');
    },
    async stop() {
      running = false;
      if (timer !== undefined) clock.clearTimeout(timer);
      deps.bus.off('reading', onReadingListener);
      deps.bus.off('actuatorState', onStateListener);
      notifier.stop();
      alertLog.stop();
      commandLog.stop();
      await Promise.all([alertLog.flush(), commandLog.flush()]);
    },
    async flush() {
      await Promise.all([alertLog.flush(), commandLog.flush(), notifier.idle()]);
    },
    tick,
    rules: () => defs,
    replaceRules(raw) {
      const persist = (next: RuleT[]) => durable.saveRules(deps.config.rules, next);
      const { result, rules } = replaceRules(ctx, carrier, defs, raw, persist);
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
    actuators: () => [...ledger.values()].map(view),
    async command(deviceId, action, value, user) {
      const { entry, ref } = actuator(deviceId);
      if (action === 'set' && (value === undefined || !(value >= 0 && value <= 100)))
        throw new ActuatorError('BAD_COMMAND', 'a set command needs a value from 0 to 100');
      const now = clock.now();
      // The operator's hold replaces their earlier one; "off" is not a hold, it lets the rules decide again.
      durable.change(entry, () => {
        releaseOperators(entry);
        if (action !== 'off') hold(entry, { kind: 'operator', user }, { action, value });
      });
      const command = dispatcher.send(ref, action, action === 'set' ? value : undefined, formatReason({ kind: 'operator', user }), now);
      applied(entry, { action, value: action === 'set' ? value : undefined }, now);
      return command;
    },
    setMode(deviceId, mode, untilMs, user) {
      const { entry } = actuator(deviceId);
      const now = clock.now();
      durable.change(entry, () => setMode(entry, mode, mode === 'manual' ? untilMs : undefined, user));
      emitMode(entry, user);
      if (mode === 'auto') carrier.reconcile(entry, now, { kind: 'auto', cause: 'manual-ended' });
      return view(entry);
    },
  };
}
