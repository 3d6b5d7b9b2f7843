import { compileRule } from './compile.js';
import type { EngineContext } from './context.js';
import type { DryRunEvent } from './handle.js';
import { pointsToReadings, rawAll, replay, ruleQueries } from './history.js';
import { createInstanceSet } from './instances.js';
import { ruleProblems } from './replace.js';
import { Rule } from './schema.js';

/** At most this many events come back: a rule that chatters that much is answered well enough. */
const MAX_EVENTS = 10_000;

/**
 * "What would this rule have done last week": the stored readings in its scope replayed through the pure
 * evaluator on their own clock. No commands, alerts or stored state are touched. History before `from`
 * (as much as the rule's for + window) warms up timers and windows, so the first hour is judged fairly.
 */
export async function dryRun(
  ctx: Pick<EngineContext, 'farm' | 'options' | 'store'>,
  raw: unknown,
  from: number,
  to: number,
): Promise<{ ok: true; events: DryRunEvent[] } | { ok: false; problems: { path: string; message: string }[] }> {
  const parsed = Rule.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: ruleProblems(parsed.error, raw) };
  if (!(Number.isFinite(from) && Number.isFinite(to) && to > from))
    return { ok: false, problems: [{ path: 'to', message: 'the period must end after it starts (from < to, epoch ms)' }] };
  const rule = compileRule({ ...parsed.data, enabled: true });
  const start = from - Math.min(rule.historyMs, ctx.options.recoverMaxMs);
  const points = [];
  for (const q of ruleQueries(rule, start, to)) points.push(...(await rawAll(ctx.store, q)));
  const set = createInstanceSet(ctx.farm, () => undefined);
  set.add(rule, start);
  const events: DryRunEvent[] = [];
  replay({
    set,
    readings: pointsToReadings(points),
    from: start,
    to,
    stepMs: Math.min(Math.max(Math.floor((to - start) / 20_000), 1000), 60_000),
    onEffect(st, e) {
      if (e.ts < from || events.length >= MAX_EVENTS) return;
      const ev: DryRunEvent = { ts: e.ts, kind: e.kind, site: st.site, zone: st.zone };
      if (st.device) ev.device = st.device;
      if (e.level) ev.level = e.level;
      if (e.metric !== undefined) ev.metric = e.metric;
      if (e.value !== undefined) ev.value = e.value;
      events.push(ev);
    },
  });
  return { ok: true, events };
}
