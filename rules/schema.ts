import { z } from 'zod';
import { ACTUATOR_TYPES, ZONE_KINDS } from '../core/domain.js';
import { parseDurationMs } from '../core/duration.js';
import { METRIC_NAMES } from '../core/metrics-catalog.js';
import { LocalText } from '../core/config/local-text.js';

/** The rule language (SPEC "Configuration file"): conditions, actions, scope. Durations are parsed to ms here. */
export const Duration = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    try {
      return parseDurationMs(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

/** Metrics a rule may name: the canonical ones plus the derived sheep THI (SPEC "Derived metric"). */
export const DERIVED_METRICS = ['thi'] as const;
export const RULE_METRICS: readonly string[] = [...METRIC_NAMES, ...DERIVED_METRICS];

const Id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'ids are lower-case letters, digits, _ and -, starting with a letter or digit');
const Severity = z.enum(['info', 'warning', 'critical']);
const Agg = z.enum(['sum', 'mean', 'max', 'min', 'rate']);
// A typo in a metric name would make a rule silently never fire, so it is an error here.
const MetricName = z.string().refine((m) => RULE_METRICS.includes(m), { message: `unknown metric: use one of ${RULE_METRICS.join(', ')}` });

/**
 * One grade of a graded condition. Levels are listed from mildest to worst; `clearBelow` / `clearAbove`
 * give a level its own hysteresis (default: its threshold), so a value hovering at a grade boundary
 * does not flip the alert between two grades.
 */
export const Level = z
  .object({
    name: z.string().min(1),
    above: z.number().optional(),
    below: z.number().optional(),
    clearBelow: z.number().optional(),
    clearAbove: z.number().optional(),
    severity: Severity.optional(),
  })
  .strict()
  .superRefine((l, ctx) => {
    if ((l.above === undefined) === (l.below === undefined)) ctx.addIssue({ code: 'custom', message: 'a level needs exactly one of above or below' });
    if (l.clearBelow !== undefined && (l.above === undefined || l.clearBelow > l.above))
      ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: 'clearBelow goes with above and must not exceed it' });
    if (l.clearAbove !== undefined && (l.below === undefined || l.clearAbove < l.below))
      ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: 'clearAbove goes with below and must not be under it' });
  });

/** Time-of-day window in the service's local time: `{from: "22:00", to: "06:00"}` wraps midnight; `days` name the day a window starts. */
export const Schedule = z
  .object({
    from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'write times as HH:MM'),
    to: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'write times as HH:MM'),
    days: z.array(z.enum(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'])).optional(),
  })
  .strict();

export const MetricCondition = z
  .object({
    metric: MetricName,
    above: z.number().optional(),
    below: z.number().optional(),
    clearBelow: z.number().optional(),
    clearAbove: z.number().optional(),
    for: Duration.optional(),
    clearFor: Duration.optional(),
    window: Duration.optional(),
    agg: Agg.optional(),
    levels: z.array(Level).min(1).optional(),
    /** Read this device instead of the one the rule instance watches (e.g. the site's rain gauge). */
    device: Id.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const thresholds = [c.above, c.below].filter((v) => v !== undefined).length;
    if (c.levels && thresholds > 0) ctx.addIssue({ code: 'custom', path: ['levels'], message: 'use either levels or above/below, not both' });
    if (!c.levels && thresholds !== 1) ctx.addIssue({ code: 'custom', message: 'a metric condition needs exactly one of above, below or levels' });
    if (c.clearBelow !== undefined && c.above === undefined) ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: 'clearBelow goes with above' });
    if (c.clearAbove !== undefined && c.below === undefined) ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: 'clearAbove goes with below' });
    if (c.clearBelow !== undefined && c.above !== undefined && c.clearBelow > c.above)
      ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: `clearBelow (${c.clearBelow}) must not exceed above (${c.above})` });
    if (c.clearAbove !== undefined && c.below !== undefined && c.clearAbove < c.below)
      ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: `clearAbove (${c.clearAbove}) must not be below below (${c.below})` });
    if ((c.window === undefined) !== (c.agg === undefined)) ctx.addIssue({ code: 'custom', path: [c.window === undefined ? 'window' : 'agg'], message: 'window and agg go together' });
    if (c.window === 0) ctx.addIssue({ code: 'custom', path: ['window'], message: 'a window must be longer than 0' });
    if (c.levels) checkLevelOrder(c.levels, ctx);
  });

/** Graded levels escalate in list order, so thresholds must get strictly worse and point one way. */
function checkLevelOrder(levels: z.output<typeof Level>[], ctx: z.RefinementCtx): void {
  const up = levels[0].above !== undefined;
  const names = new Set<string>();
  levels.forEach((l, i) => {
    if ((l.above !== undefined) !== up) ctx.addIssue({ code: 'custom', path: ['levels', i], message: 'all levels of a condition use above, or all use below' });
    if (names.has(l.name)) ctx.addIssue({ code: 'custom', path: ['levels', i, 'name'], message: `duplicate level name "${l.name}"` });
    names.add(l.name);
    if (i === 0) return;
    const prev = up ? levels[i - 1].above : levels[i - 1].below;
    const cur = up ? l.above : l.below;
    if (prev !== undefined && cur !== undefined && (up ? cur <= prev : cur >= prev))
      ctx.addIssue({ code: 'custom', path: ['levels', i, up ? 'above' : 'below'], message: 'list levels from mildest to worst: each threshold must be beyond the previous one' });
  });
}

export const StaleCondition = z.object({ stale: Duration, device: Id.optional() }).strict();

export type MetricConditionT = z.output<typeof MetricCondition>;
export type StaleConditionT = z.output<typeof StaleCondition>;
export type ConditionT = MetricConditionT | StaleConditionT | { all: ConditionT[] } | { any: ConditionT[] };

const AllCondition = z.object({ all: z.array(z.lazy(() => Condition)).min(1) }).strict();
const AnyCondition = z.object({ any: z.array(z.lazy(() => Condition)).min(1) }).strict();

/**
 * Picks the branch by its keys instead of a plain union, so an error names the field that is wrong
 * (`[2].when.above`) instead of zod's "Invalid input" for the whole union.
 */
function byKey<T>(pick: (o: Record<string, unknown>) => z.ZodType | string) {
  return z.unknown().transform((value, ctx): T => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: 'expected an object' });
      return z.NEVER;
    }
    const schema = pick(value as Record<string, unknown>);
    if (typeof schema === 'string') {
      ctx.addIssue({ code: 'custom', message: schema });
      return z.NEVER;
    }
    const result = schema.safeParse(value);
    if (result.success) return result.data as T;
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  });
}

export const Condition: z.ZodType<ConditionT, unknown> = byKey<ConditionT>((o) =>
  'all' in o ? AllCondition : 'any' in o ? AnyCondition : 'stale' in o ? StaleCondition : 'metric' in o ? MetricCondition : 'a condition needs metric, stale, all or any',
);

export const ActuateAction = z
  .object({
    type: z.enum(ACTUATOR_TYPES).optional(),
    device: Id.optional(),
    action: z.enum(['on', 'off', 'set']),
    value: z.number().min(0).max(100).optional(),
  })
  .strict()
  .refine((a) => (a.type === undefined) !== (a.device === undefined), { message: 'actuate needs exactly one of type or device' })
  .refine((a) => a.action !== 'set' || a.value !== undefined, { message: 'action set needs a value (0-100)', path: ['value'] });

/**
 * `message` may use {value}, {level}, {metric}, {site}, {zone}, {device}, {rule}. `clearMessage` is the message of
 * the cleared event, with the clearing value (default: "cleared: " and `message` filled with the clearing value).
 * Each is a plain text or `{ en, zh }`.
 */
export const AlertAction = z.object({ severity: Severity, message: LocalText.optional(), clearMessage: LocalText.optional() }).strict();

export const NotifyAction = z.object({ url: z.string().url(), headers: z.record(z.string(), z.string()).optional() }).strict();

const ActuateStep = z.object({ actuate: ActuateAction }).strict();
const AlertStep = z.object({ alert: AlertAction }).strict();
const NotifyStep = z.object({ notify: NotifyAction }).strict();
export type ActionT = z.output<typeof ActuateStep> | z.output<typeof AlertStep> | z.output<typeof NotifyStep>;

export const Action: z.ZodType<ActionT, unknown> = byKey<ActionT>((o) =>
  'actuate' in o ? ActuateStep : 'alert' in o ? AlertStep : 'notify' in o ? NotifyStep : 'an action is one of actuate, alert or notify',
);

export const Scope = z
  .object({ site: Id.optional(), zone: Id.optional(), kind: z.enum(ZONE_KINDS).optional(), device: Id.optional() })
  .strict();

export const Rule = z
  .object({
    id: Id,
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    scope: Scope.default({}),
    /**
     * What one instance of the rule watches: each sensor device on its own (default), or a whole zone
     * (all its sensors feed one instance, e.g. a shed with separate temperature and humidity probes).
     */
    per: z.enum(['device', 'zone']).default('device'),
    when: Condition,
    schedule: Schedule.optional(),
    actions: z.array(Action).min(1),
    minOn: Duration.optional(),
    minOff: Duration.optional(),
  })
  .strict();

export type RuleT = z.output<typeof Rule>;
export type LevelT = z.output<typeof Level>;
export type ScheduleT = z.output<typeof Schedule>;
export type ActuateActionT = z.output<typeof ActuateAction>;

/**
 * The rule list of the farm file and of `PUT /api/rules`. Each rule is checked on its own so that every
 * problem names the rule by id as well as by position and field: `rules[3].when.above: rule "shed-co2": ...`.
 */
export const Rules: z.ZodType<RuleT[], unknown> = z.array(z.unknown()).transform((items, ctx) => {
  const out: RuleT[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const rawId = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
    const named = (message: string) => (typeof rawId === 'string' ? `rule "${rawId}": ${message}` : message);
    const parsed = Rule.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: [i, ...issue.path], message: named(issue.message) });
      return;
    }
    if (seen.has(parsed.data.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: named(`duplicate rule id "${parsed.data.id}": rule ids must be unique`) });
    seen.add(parsed.data.id);
    out.push(parsed.data);
  });
  return out;
});
