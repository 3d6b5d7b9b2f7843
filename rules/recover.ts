import type { AlertEvent } from '../core/domain.js';
import { instanceKey } from './compile.js';
import { alertFor, restore } from './alerts.js';
import { SYSTEM_ACTUATOR, SYSTEM_ANIMAL_MISSING, SYSTEM_FAILSAFE, SYSTEM_HEAD_COUNT, SYSTEM_HOLD, systemOwner, type EngineContext } from './context.js';
import { touchedBy, type Carrier } from './effects.js';
import { adoptActive, currentEffect, evaluate, type RuleState } from './evaluate.js';
import type { Failsafe } from './failsafe.js';
import { pointsToReadings, rawAll, replay, storedMetrics } from './history.js';
import { createInstanceSet } from './instances.js';
import type { RawPoint } from '../store/store.js';
import { applied } from './actuators.js';
import { parseReason, type CommandReason } from './holders.js';

/**
 * Restart recovery. Nothing the engine decides may be lost with the process:
 * - when devices last reported (store.latest), so a restart does not flag every sensor stale at once;
 * - open alerts (store.alerts: the latest event of each id), so the active list and its ids survive;
 * - each rule's state, rebuilt by replaying stored readings through the evaluator: at least
 *   recoverMinMs, and as far back as the rule's longest for + window, so a pipe that had been above 60 %
 *   for 5 of the 6 hours a rule asks for fires after one more hour, not six.
 * - what each actuator was last commanded (store.commands), so an actuator a rule switched on before the
 *   restart is switched off when no rule holds it any more, and a command left unacknowledged is sent again.
 * Then the rebuilt state and the open alerts are reconciled: replayed active without an alert fires now;
 * an alert whose condition the data says has ended is cleared; an alert without data is adopted (its
 * instance counts as active until the ordinary clear path ends it).
 */
export function alertOwner(e: AlertEvent): string {
  if (e.rule === SYSTEM_FAILSAFE) return systemOwner.failsafe(e.site, e.zone);
  if (e.rule === SYSTEM_ACTUATOR) return systemOwner.actuator(e.device ?? '');
  if (e.rule === SYSTEM_HOLD) return systemOwner.hold(e.device ?? '');
  if (e.rule === SYSTEM_ANIMAL_MISSING) return systemOwner.animal(e.animal ?? '');
  if (e.rule === SYSTEM_HEAD_COUNT) return systemOwner.headCount(e.site, e.zone);
  return instanceKey(e.rule, { site: e.site, zone: e.zone, device: e.device });
}

export async function seedFromStore(ctx: Pick<EngineContext, 'book' | 'clock' | 'lastSeen' | 'options' | 'store'>): Promise<void> {
  const now = ctx.clock.now();
  for (const v of await ctx.store.latest()) if (v.ts > (ctx.lastSeen.get(v.device) ?? -Infinity)) ctx.lastSeen.set(v.device, Math.min(v.ts, now));
  const events = await ctx.store.alerts({ from: now - ctx.options.restoreAlertsMs, to: now + 1, limit: 10_000 });
  restore(ctx.book, events, alertOwner);
}

/**
 * Seeds each actuator's last commanded state from the command history and resumes a command that was sent
 * but neither acknowledged nor given up on. Returns the reason of each actuator's last command, which a
 * command undoing it after the restart carries (e.g. the rule that had switched it on). A store that cannot
 * answer is logged, not fatal: the actuators' own state reports then tell the engine where they are.
 */
export async function seedActuators(
  ctx: Pick<EngineContext, 'clock' | 'dispatcher' | 'farm' | 'ledger' | 'logger' | 'options' | 'store'>,
): Promise<Map<string, CommandReason>> {
  const now = ctx.clock.now();
  const reasons = new Map<string, CommandReason>();
  for (const entry of ctx.ledger.values()) {
    const ref = ctx.farm.device(entry.device);
    if (!ref) continue;
    let last;
    try {
      [last] = await ctx.store.commands({ device: entry.device, from: now - ctx.options.restoreAlertsMs, to: now + 1, limit: 1 });
    } catch (err) {
      ctx.logger.warn(
        { err: (err as Error).message, device: entry.device },
        'cannot read the command history: the actuator state is learned from its next report',
      );
      continue;
    }
    if (!last) continue;
    const { command } = last;
    applied(entry, { action: command.action, value: command.action === 'set' ? command.value : undefined }, Math.min(command.ts, now));
    const reason = parseReason(command.reason);
    if (reason) reasons.set(entry.device, reason);
    if (last.outcome === 'sent' || last.outcome === 'retried') ctx.dispatcher.resume(ref, command, now);
    else if (last.outcome === 'failed') ctx.dispatcher.remember(ref, command);
  }
  return reasons;
}

export async function rebuildRuleStates(
  ctx: Pick<EngineContext, 'clock' | 'farm' | 'lastSeen' | 'ledger' | 'options' | 'seenAt' | 'set' | 'startedAt' | 'store'>,
): Promise<Set<RuleState>> {
  const now = ctx.clock.now();
  const { recoverMinMs, recoverMaxMs, tickMs } = ctx.options;
  const horizon = (historyMs: number) => Math.min(Math.max(historyMs, recoverMinMs), recoverMaxMs);
  // One query per metric, as far back as the most demanding rule that reads it.
  const metricHorizon = new Map<string, number>();
  for (const r of ctx.set.rules()) for (const m of storedMetrics(r.metrics)) metricHorizon.set(m, Math.max(metricHorizon.get(m) ?? 0, horizon(r.historyMs)));
  const points = new Map<string, RawPoint[]>();
  for (const [metric, h] of metricHorizon) points.set(metric, await rawAll(ctx.store, { metric, from: now - h, to: now + 1 }));

  const saw = new Set<RuleState>();
  for (const rule of ctx.set.rules()) {
    if (rule.metrics.length === 0) continue; // stale-only rules need no history: lastSeen is seeded
    const from = now - horizon(rule.historyMs);
    const readings = pointsToReadings(storedMetrics(rule.metrics).flatMap((m) => (points.get(m) ?? []).filter((p) => p.ts >= from)));
    if (readings.length === 0) continue; // nothing to rebuild from: the fresh instances are the state
    const scratch = createInstanceSet(ctx.farm, ctx.seenAt);
    scratch.add(rule, from);
    // Effects are discarded here, only the final state counts, so coarse ticks suffice: readings
    // carry the values and the last tick at `now` completes any timer that is due.
    const stepMs = Math.max(Math.floor((now - from) / 100), tickMs);
    for (const st of replay({ set: scratch, readings, from, to: now, stepMs })) saw.add(st);
    for (const st of scratch.statesOf(rule.id)) {
      // Stale conditions count from the device's real last report, not from the replayed subset of metrics.
      rule.leaves.forEach((leaf, i) => {
        if (leaf.kind !== 'stale') return;
        const seen = leaf.device ? ctx.lastSeen.get(leaf.device) : ctx.seenAt(st.site, st.zone, st.device);
        st.leaves[i].lastTs = Math.max(st.leaves[i].lastTs ?? 0, seen ?? ctx.startedAt);
      });
      if (rule.hasActuator) seedActuatorConditions(ctx, st, now);
      ctx.set.replace(st);
    }
  }
  return saw;
}

/**
 * Actuator conditions ("a fan on for 30 min") start from what each actuator was last commanded, and since when
 * (seedActuators read it from the command history): a restart does not clear and raise again an alert that needs
 * the fans to have run. Their next state reports take over.
 */
function seedActuatorConditions(ctx: Pick<EngineContext, 'farm' | 'ledger'>, st: RuleState, now: number): void {
  for (const entry of ctx.ledger.values()) {
    const d = ctx.farm.device(entry.device);
    if (!entry.applied || !d?.type) continue;
    const on = entry.applied.action !== 'off';
    const since = Math.min(now, (on ? entry.onSince : entry.offSince) ?? now);
    evaluate(st, { type: 'actuator', report: { site: d.site, zone: d.zone, device: d.device, type: d.type, on } }, since);
  }
  evaluate(st, { type: 'tick' }, now);
}

export function reconcileWithAlerts(ctx: Pick<EngineContext, 'book' | 'clock' | 'set'>, carrier: Carrier, failsafe: Failsafe, saw: Set<RuleState>): void {
  const now = ctx.clock.now();
  const owners = new Set<string>();
  for (const rule of ctx.set.rules()) {
    for (const st of ctx.set.statesOf(rule.id)) {
      owners.add(st.key);
      const open = alertFor(ctx.book, st.key);
      if (st.active && !open) {
        carrier.onEffect(st, currentEffect(st, 'fired', now));
        continue;
      }
      if (!st.active && open && saw.has(st)) {
        carrier.closeAlert(st.key, now, { en: 'condition no longer held when the service restarted', zh: '服务重启时条件已不再成立' });
        continue;
      }
      if (!open) continue;
      if (!st.active) adoptActive(st, open.level ?? undefined, now);
      carrier.settle(touchedBy(carrier.hold(st, now), { kind: 'rule', rule: rule.id }), now, [st]);
      const levels = rule.levelLeaf >= 0 ? (rule.leaves[rule.levelLeaf] as { levels: { name?: string }[] }).levels : [];
      const was = levels.findIndex((l) => l.name === open.level);
      if (st.level !== was && st.level >= 0) carrier.onEffect(st, currentEffect(st, st.level > was ? 'escalated' : 'deescalated', now));
    }
  }
  for (const [owner, id] of [...ctx.book.byOwner]) {
    const e = ctx.book.active.get(id);
    if (e && !e.rule.startsWith('system:') && !owners.has(owner))
      carrier.closeAlert(owner, now, { en: 'its rule is no longer configured', zh: '其规则已不在配置中' });
  }
  failsafe.adoptOpen(now);
}
