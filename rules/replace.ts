import type { z } from 'zod';
import { formatPath } from '../core/config/load.js';
import type { LedgerEntry } from './actuators.js';
import { alertFor } from './alerts.js';
import { canonicalJson, compileRule } from './compile.js';
import type { EngineContext } from './context.js';
import type { Carrier } from './effects.js';
import { adoptActive, currentEffect, type RuleState } from './evaluate.js';
import type { ReplaceRulesResult } from './handle.js';
import type { CommandReason } from './holders.js';
import { Rules, type RuleT } from './schema.js';

/** Problems with the path to the field (`[2].when.above`) and the rule's id in the message. */
export function ruleProblems(error: z.ZodError, raw: unknown, prefix: (number | string)[] = []): { path: string; message: string }[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path] as PropertyKey[];
    const index = typeof issue.path[0] === 'number' ? issue.path[0] : undefined;
    const rule = (Array.isArray(raw) ? (index !== undefined ? raw[index] : undefined) : raw) as { id?: unknown } | undefined;
    // The rule list schema names the rule itself; a single rule (dry run) is named here.
    const id = typeof rule?.id === 'string' && !issue.message.startsWith('rule "') ? `rule "${rule.id}": ` : '';
    return { path: formatPath(path), message: id + issue.message };
  });
}

/**
 * Swaps the rule set at run time. Unchanged rules (same canonical JSON) keep their instances untouched.
 * A changed rule starts from fresh timers and windows, but an instance that was active stays active
 * under the new definition (its alert and actuator holds carry over), so editing a message or a
 * threshold does not switch a fan off and on again; the new thresholds then decide when it clears.
 * Removed (or disabled) rules release their actuators and clear their alerts. `persist` saves the new set
 * (DATA_DIR/rules.json) so it survives a restart.
 */
export function replaceRules(
  ctx: Pick<EngineContext, 'book' | 'clock' | 'logger' | 'set'>,
  carrier: Carrier,
  current: RuleT[],
  raw: unknown,
  persist: (next: RuleT[]) => void = () => {},
): { result: ReplaceRulesResult; rules?: RuleT[] } {
  const parsed = Rules.safeParse(raw);
  if (!parsed.success) return { result: { ok: false, problems: ruleProblems(parsed.error, raw) } };
  const next = parsed.data;
  // Kept before it takes effect: a set that cannot be saved is not put in force (the error reaches the caller).
  persist(next);
  const now = ctx.clock.now();
  const before = new Map(current.map((r) => [r.id, r]));
  const kept: string[] = [];
  const changed: string[] = [];
  for (const def of next) (before.has(def.id) && canonicalJson(before.get(def.id)) === canonicalJson(def) ? kept : changed).push(def.id);
  const nextIds = new Set(next.map((r) => r.id));
  const removed = current.filter((r) => !nextIds.has(r.id)).map((r) => r.id);

  // Each touched actuator with the rule whose change touched it: the reason of an off with no holder left.
  const touched = new Map<LedgerEntry, CommandReason>();
  const take = (entries: Set<LedgerEntry>, rule: string) => entries.forEach((e) => touched.set(e, { kind: 'rule', rule }));
  const previous = new Map<string, RuleState>();
  const removedOrChanged: RuleState[] = [];
  for (const id of [...removed, ...changed]) {
    for (const st of ctx.set.remove(id)) {
      removedOrChanged.push(st);
      take(carrier.release(st), id);
      if (st.active) previous.set(st.key, st);
    }
  }
  for (const def of next) {
    if (!changed.includes(def.id) || !def.enabled) continue;
    const hasAlert = def.actions.some((a) => 'alert' in a);
    for (const st of ctx.set.add(compileRule(def), now)) {
      const prev = previous.get(st.key);
      if (!prev) continue;
      previous.delete(st.key);
      const levelName =
        prev.level >= 0 && prev.rule.levelLeaf >= 0
          ? (prev.rule.leaves[prev.rule.levelLeaf] as { levels: { name?: string }[] }).levels[prev.level]?.name
          : undefined;
      adoptActive(st, levelName, prev.since ?? now);
      take(carrier.hold(st, now), def.id);
      if (!hasAlert) carrier.closeAlert(st.key, now, { en: 'the rule no longer raises an alert', zh: '该规则不再产生告警' });
      else if (!alertFor(ctx.book, st.key)) carrier.raiseAlert(st, currentEffect(st, 'fired', now));
    }
  }
  // Active instances with no successor: the rule is gone, disabled, or no longer covers that device.
  for (const st of previous.values())
    carrier.closeAlert(st.key, now, nextIds.has(st.rule.id) ? { en: 'the rule changed', zh: '规则已修改' } : { en: 'the rule was removed', zh: '规则已删除' });
  // Zones of every instance that went or came: a floor may end with a removed rule.
  carrier.settle(touched, now, [...removedOrChanged, ...ctx.set.rules().flatMap((r) => (changed.includes(r.id) ? ctx.set.statesOf(r.id) : []))]);
  ctx.logger.info({ changed, kept, removed }, 'rules replaced');
  return { result: { ok: true, rules: next, changed, kept, removed }, rules: next };
}
