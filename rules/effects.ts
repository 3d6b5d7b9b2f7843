import type { AlertEvent, Command, DeviceRef } from '../core/domain.js';
import { formatDuration } from '../core/duration.js';
import { alertTopic } from '../core/topics.js';
import { applied, decide, hold, noteHolders, release, type LedgerEntry } from './actuators.js';
import { formatReason, reasonOf, type CommandReason, type Holder } from './holders.js';
import { alertFor, changeLevel, clear, formatMessage, raise, systemFacts, type AlertFacts } from './alerts.js';
import { SYSTEM_ACTUATOR, type EngineContext } from './context.js';
import type { RuleEffect, RuleState } from './evaluate.js';
import type { NotifyTarget } from './notify.js';
import type { ActuateActionT, RuleT } from './schema.js';

/**
 * Carries out what the evaluator decided: holds and releases actuators (then commands them when the
 * ledger says so), raises / escalates / clears alerts, publishes and stores them, posts webhooks.
 */
export interface Carrier {
  onEffect(st: RuleState, e: RuleEffect): void;
  /** Takes or drops the instance's holds without commanding yet; the caller reconciles the returned entries. */
  hold(st: RuleState): Set<LedgerEntry>;
  release(st: RuleState): Set<LedgerEntry>;
  /**
   * Commands what the holders now want, when it differs from what the actuator was last told. The command's
   * reason is the deciding holder; with none (back to off), `cause`: what released it.
   */
  reconcile(entry: LedgerEntry, now: number, cause?: CommandReason): void;
  raiseAlert(st: RuleState, e: RuleEffect): void;
  /** The rule's condition ended: the cleared event carries the value that ended it and the clearing message. */
  clearAlert(st: RuleState, e: RuleEffect): void;
  emitAlert(event: AlertEvent, targets?: NotifyTarget[]): void;
  /** Clears whatever alert an owner has open (rule removed or changed, restored alert without its rule). */
  closeAlert(owner: string, now: number, note: string): void;
  notifyTargets(ruleId: string): NotifyTarget[];
  actuatorFailed(ref: DeviceRef, command: Command, attempts: number): void;
  actuatorHeard(device: string, now: number): void;
}

type AlertActionT = Extract<RuleT['actions'][number], { alert: unknown }>['alert'];

export function createCarrier(ctx: EngineContext): Carrier {
  const alertAction = (def: RuleT): AlertActionT | undefined => def.actions.find((a): a is { alert: AlertActionT } => 'alert' in a)?.alert;
  const targetsOf = (def: RuleT): NotifyTarget[] => def.actions.flatMap((a) => ('notify' in a ? [a.notify] : []));
  const holderOf = (st: RuleState): Holder => ({ kind: 'rule', rule: st.rule.id, instance: st.key });

  /** The actuators an instance's actuate actions name: by type within its zone, or by device id anywhere. */
  function targets(st: RuleState): [LedgerEntry, ActuateActionT][] {
    const out: [LedgerEntry, ActuateActionT][] = [];
    for (const a of st.rule.def.actions) {
      if (!('actuate' in a)) continue;
      const devices = a.actuate.device ? [ctx.farm.device(a.actuate.device)] : ctx.farm.actuators(st.site, st.zone, a.actuate.type);
      for (const d of devices) {
        const entry = d?.role === 'actuator' ? ctx.ledger.get(d.device) : undefined;
        if (entry) out.push([entry, a.actuate]);
      }
    }
    return out;
  }

  /**
   * The event's message from the rule's template (or a default). A clear uses the rule's `clearMessage`, else the
   * raising template filled with the clearing value and marked "cleared: ", so it never repeats the raising value.
   */
  function message(st: RuleState, e: RuleEffect, action: AlertActionT | undefined): string {
    const { def } = st.rule;
    const stale = st.rule.leaves.find((l) => l.kind === 'stale');
    const onlyStale = st.rule.leaves.every((l) => l.kind === 'stale');
    const fallback = onlyStale ? 'sensor offline: no reading from {device} for {stale}' : `${def.description ?? def.id}: {metric} {value}${e.level ? ' ({level})' : ''}`;
    let template = action?.message ?? fallback;
    if (e.kind === 'cleared') template = action?.clearMessage ?? (onlyStale ? 'cleared: {device} is reporting again' : `cleared: ${template}`);
    return formatMessage(template, {
      value: e.value,
      level: e.level,
      metric: e.metric,
      site: st.site,
      zone: st.zone,
      device: st.device ?? st.zone,
      rule: def.id,
      stale: stale?.kind === 'stale' ? formatDuration(stale.staleMs) : undefined,
    });
  }

  function facts(st: RuleState, e: RuleEffect, action: AlertActionT | undefined): AlertFacts {
    return {
      rule: st.rule.id,
      site: st.site,
      zone: st.zone,
      device: st.device,
      severity: e.severity ?? action?.severity ?? 'info',
      level: e.level ?? null,
      value: e.value ?? null,
      metric: e.metric ?? null,
      message: message(st, e, action),
    };
  }

  /** A rule that only notifies still sends an event shaped like an alert; it is not tracked or stored. */
  function notifyOnly(st: RuleState, e: RuleEffect): void {
    const targets = targetsOf(st.rule.def);
    if (targets.length === 0) return;
    const f = facts(st, e, undefined);
    const state = e.kind === 'fired' ? 'raised' : e.kind === 'cleared' ? 'cleared' : 'escalated';
    const id = `${f.rule}:${f.site}:${f.zone}:${f.device ?? '-'}:${st.since ?? e.ts}`;
    for (const t of targets) ctx.notifier.send(t, { id, ...f, state, ts: e.ts });
  }

  const carrier: Carrier = {
    onEffect(st, e) {
      const reason: CommandReason = { kind: 'rule', rule: st.rule.id };
      if (e.kind === 'fired') {
        for (const entry of carrier.hold(st)) carrier.reconcile(entry, e.ts, reason);
        carrier.raiseAlert(st, e);
      } else if (e.kind === 'cleared') {
        for (const entry of carrier.release(st)) carrier.reconcile(entry, e.ts, reason);
        carrier.clearAlert(st, e);
      } else {
        const action = alertAction(st.rule.def);
        if (!action) return notifyOnly(st, e);
        const f = facts(st, e, action);
        const up = e.kind === 'escalated';
        if (e.level) f.message += up ? ` (escalated to ${e.level})` : ` (de-escalated to ${e.level})`;
        const event = changeLevel(ctx.book, st.key, f, up, e.ts);
        if (event) carrier.emitAlert(event, targetsOf(st.rule.def));
      }
    },

    hold(st) {
      const { def } = st.rule;
      const touched = new Set<LedgerEntry>();
      for (const [entry, act] of targets(st)) {
        hold(entry, holderOf(st), { action: act.action, value: act.value, minOnMs: def.minOn, minOffMs: def.minOff });
        noteHolders(entry);
        touched.add(entry);
      }
      return touched;
    },

    release(st) {
      const touched = new Set<LedgerEntry>();
      for (const [entry] of targets(st)) if (release(entry, holderOf(st))) touched.add(entry);
      return touched;
    },

    reconcile(entry, now, cause) {
      const d = decide(entry, now);
      if (d.kind === 'none') {
        entry.deferUntil = entry.deferReason = undefined;
        return;
      }
      if (d.kind === 'defer') {
        entry.deferUntil = d.until;
        entry.deferReason = cause ?? entry.deferReason;
        return;
      }
      const dev = ctx.farm.device(entry.device)!;
      // No holder and no cause: the actuator reported a state nobody asked for (e.g. on at start), which is drift.
      const why = d.holder ? reasonOf(d.holder) : (cause ?? entry.deferReason ?? { kind: 'auto', cause: 'drift' });
      ctx.dispatcher.send(dev, d.action, d.value, formatReason(why), now);
      applied(entry, d, now);
      entry.deferReason = undefined;
    },

    raiseAlert(st, e) {
      const action = alertAction(st.rule.def);
      if (!action) return notifyOnly(st, e);
      if (alertFor(ctx.book, st.key)) return;
      carrier.emitAlert(raise(ctx.book, st.key, facts(st, e, action), e.ts), targetsOf(st.rule.def));
    },

    clearAlert(st, e) {
      const action = alertAction(st.rule.def);
      if (!action) return notifyOnly(st, e);
      const open = alertFor(ctx.book, st.key);
      if (!open) return;
      const f = facts(st, e, action);
      // A graded alert keeps its last level (it says what cleared); severity stays what was raised.
      const event = clear(ctx.book, st.key, { value: f.value, metric: f.metric, message: f.message }, e.ts);
      if (event) carrier.emitAlert(event, targetsOf(st.rule.def));
    },

    emitAlert(event, targets = []) {
      try {
        ctx.bus.emit('alert', event);
      } catch (err) {
        ctx.logger.error({ err }, 'an alert listener failed');
      }
      const payload = JSON.stringify(event);
      ctx.publish(alertTopic(ctx.options.topicRoot, event.site, event.zone), payload, { qos: 1 }).catch((err: Error) => ctx.logger.warn({ alert: event.id, err: err.message }, 'publishing an alert failed'));
      ctx.alertLog.push(event);
      for (const t of targets) ctx.notifier.send(t, event);
    },

    closeAlert(owner, now, note) {
      const open = alertFor(ctx.book, owner);
      // No reading ended it, so there is no clearing value to report.
      const event = open && clear(ctx.book, owner, { value: null, metric: null, message: `cleared: ${open.message} (${note})` }, now);
      if (event) carrier.emitAlert(event, carrier.notifyTargets(event.rule));
    },

    notifyTargets(ruleId) {
      const rule = ctx.set.rule(ruleId);
      return rule ? targetsOf(rule.def) : [];
    },

    actuatorFailed(ref, command, attempts) {
      const owner = `actuator|${ref.device}`;
      if (alertFor(ctx.book, owner)) return;
      const message = `actuator not responding: ${ref.device} did not acknowledge "${command.action}" after ${attempts} attempts`;
      const now = ctx.clock.now();
      carrier.emitAlert(raise(ctx.book, owner, systemFacts({ rule: SYSTEM_ACTUATOR, site: ref.site, zone: ref.zone, device: ref.device, severity: 'critical', message }), now));
    },

    actuatorHeard(device, now) {
      const event = clear(ctx.book, `actuator|${device}`, { message: `cleared: ${device} is responding again` }, now);
      if (event) carrier.emitAlert(event);
    },
  };
  return carrier;
}
