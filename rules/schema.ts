import { z } from 'zod';
import { ACTUATOR_TYPES, ZONE_KINDS } from '../core/domain.js';
import { parseDurationMs } from '../core/duration.js';

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

const Id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'ids are lower-case letters, digits, _ and -, starting with a letter or digit');
const Severity = z.enum(['info', 'warning', 'critical']);
const Agg = z.enum(['sum', 'mean', 'max', 'min', 'rate']);
const MetricName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'metric names are lower-case, e.g. nh3 or soil_moisture');

export const Level = z
  .object({
    name: z.string().min(1),
    above: z.number().optional(),
    below: z.number().optional(),
    severity: Severity.optional(),
  })
  .strict()
  .refine((l) => (l.above === undefined) !== (l.below === undefined), { message: 'a level needs exactly one of above or below' });

/** Time-of-day window in the service's local time: `{from: "22:00", to: "06:00"}` wraps midnight. */
export const Schedule = z
  .object({
    from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'write times as HH:MM'),
    to: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'write times as HH:MM'),
    days: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).optional(),
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
    device: Id.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const thresholds = [c.above, c.below].filter((v) => v !== undefined).length;
    if (c.levels && thresholds > 0) ctx.addIssue({ code: 'custom', message: 'use either levels or above/below, not both' });
    if (!c.levels && thresholds !== 1) ctx.addIssue({ code: 'custom', message: 'a metric condition needs exactly one of above, below or levels' });
    if (c.clearBelow !== undefined && c.above === undefined) ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: 'clearBelow goes with above' });
    if (c.clearAbove !== undefined && c.below === undefined) ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: 'clearAbove goes with below' });
    if (c.clearBelow !== undefined && c.above !== undefined && c.clearBelow > c.above)
      ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: `clearBelow (${c.clearBelow}) must not exceed above (${c.above})` });
    if (c.clearAbove !== undefined && c.below !== undefined && c.clearAbove < c.below)
      ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: `clearAbove (${c.clearAbove}) must not be below below (${c.below})` });
    if ((c.window === undefined) !== (c.agg === undefined)) ctx.addIssue({ code: 'custom', message: 'window and agg go together' });
  });

export const StaleCondition = z.object({ stale: Duration, device: Id.optional() }).strict();

export type MetricConditionT = z.output<typeof MetricCondition>;
export type StaleConditionT = z.output<typeof StaleCondition>;
export type ConditionT = MetricConditionT | StaleConditionT | { all: ConditionT[] } | { any: ConditionT[] };

export const Condition: z.ZodType<ConditionT, any> = z.lazy(() =>
  z.union([
    z.object({ all: z.array(Condition).min(1) }).strict(),
    z.object({ any: z.array(Condition).min(1) }).strict(),
    StaleCondition,
    MetricCondition,
  ]),
) as any;

export const ActuateAction = z
  .object({
    type: z.enum(ACTUATOR_TYPES).optional(),
    device: Id.optional(),
    action: z.enum(['on', 'off', 'set']),
    value: z.number().min(0).max(100).optional(),
  })
  .strict()
  .refine((a) => (a.type === undefined) !== (a.device === undefined), { message: 'actuate needs exactly one of type or device' })
  .refine((a) => a.action !== 'set' || a.value !== undefined, { message: 'action set needs a value (0-100)' });

export const AlertAction = z
  .object({ severity: Severity, message: z.string().optional() })
  .strict();

export const NotifyAction = z
  .object({ url: z.string().url(), headers: z.record(z.string(), z.string()).optional() })
  .strict();

export const Action = z.union([
  z.object({ actuate: ActuateAction }).strict(),
  z.object({ alert: AlertAction }).strict(),
  z.object({ notify: NotifyAction }).strict(),
]);

export const Scope = z
  .object({ site: Id.optional(), zone: Id.optional(), kind: z.enum(ZONE_KINDS).optional(), device: Id.optional() })
  .strict();

export const Rule = z
  .object({
    id: Id,
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    scope: Scope.default({}),
    when: Condition,
    schedule: Schedule.optional(),
    actions: z.array(Action).min(1),
    minOn: Duration.optional(),
    minOff: Duration.optional(),
  })
  .strict();

export type RuleT = z.output<typeof Rule>;
export type ActionT = z.output<typeof Action>;
export type LevelT = z.output<typeof Level>;

export const Rules = z.array(Rule).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  rules.forEach((r, i) => {
    if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate rule id "${r.id}"` });
    seen.add(r.id);
  });
});
