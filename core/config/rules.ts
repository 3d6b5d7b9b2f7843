import { z } from 'zod';
import { ACTUATOR_TYPES, ZONE_KINDS } from '../domain.js';
import { METRIC_NAMES } from '../metrics-catalog.js';
import { Duration } from './duration.js';
import { LocalText } from './local-text.js';

export { Duration };

/**
 * The rule language (SPEC "Configuration file"): conditions, actions, scope. It is part of the farm file's
 * definition, so it lives here with the rest of the config schema; the rules engine reads it through
 * rules/schema.ts. Durations are parsed to ms here.
 */

/**
 * Metrics a rule may name: the canonical ones plus the derived ones (rules/derived.ts): the sheep THI (SPEC
 * "Derived metric"), dew point and wet-bulb temperature of a shed's air.
 */
export const DERIVED_METRICS = ['thi', 'dew_point', 'wet_bulb'] as const;
export const RULE_METRICS: readonly string[] = [...METRIC_NAMES, ...DERIVED_METRICS];

const Id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'ids are lower-case letters, digits, _ and -, starting with a letter or digit');
const Severity = z.enum(['info', 'warning', 'critical']);
const Agg = z.enum(['sum', 'mean', 'max', 'min', 'rate', 'degreeHours']);
const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'write times as HH:MM');

/**
 * A threshold: a number, or a value of the instance's zone (`{ zone: designDepthM }`, optionally `plus` an
 * offset), so one rule gives every pipe its own limits and every shed its animal group's THI bands
 * (rules/zone-values.ts lists the values). A zone that lacks the value gets no instance of the rule.
 */
export const Threshold = z.union([z.number(), z.object({ zone: z.string().min(1), plus: z.number().optional() }).strict()], {
  error: 'expected a number, or a zone value such as { zone: designDepthM, plus: -0.05 }',
});
export type ThresholdT = z.output<typeof Threshold>;
const num = (t: ThresholdT | undefined): number | undefined => (typeof t === 'number' ? t : undefined);
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
    above: Threshold.optional(),
    below: Threshold.optional(),
    atLeast: Threshold.optional(),
    atMost: Threshold.optional(),
    clearBelow: Threshold.optional(),
    clearAbove: Threshold.optional(),
    severity: Severity.optional(),
  })
  .strict()
  .superRefine((l, ctx) => checkThresholds(l, ctx, 'a level needs exactly one of above, below, atLeast or atMost'));

type Thresholds = { above?: ThresholdT; below?: ThresholdT; atLeast?: ThresholdT; atMost?: ThresholdT; clearBelow?: ThresholdT; clearAbove?: ThresholdT };

/** The threshold that fires a condition or level: which key, and whether it rises (above/atLeast). */
export function enterOf(t: Thresholds): { key: 'above' | 'below' | 'atLeast' | 'atMost'; value: ThresholdT; up: boolean; inclusive: boolean } | undefined {
  if (t.above !== undefined) return { key: 'above', value: t.above, up: true, inclusive: false };
  if (t.atLeast !== undefined) return { key: 'atLeast', value: t.atLeast, up: true, inclusive: true };
  if (t.below !== undefined) return { key: 'below', value: t.below, up: false, inclusive: false };
  if (t.atMost !== undefined) return { key: 'atMost', value: t.atMost, up: false, inclusive: true };
  return undefined;
}

/**
 * Exactly one of above / atLeast (rising) or below / atMost (falling); clearBelow goes with a rising threshold
 * and must not exceed it, clearAbove with a falling one and must not be under it (checked when both are numbers;
 * zone values are checked per zone when the instance is made).
 */
function checkThresholds(t: Thresholds, ctx: z.RefinementCtx, none: string | undefined): void {
  const given = (['above', 'below', 'atLeast', 'atMost'] as const).filter((k) => t[k] !== undefined);
  if (given.length > 1) ctx.addIssue({ code: 'custom', path: [given[1]], message: `use one of above, below, atLeast or atMost, not ${given.join(' and ')}` });
  if (given.length === 0 && none) ctx.addIssue({ code: 'custom', message: none });
  const enter = enterOf(t);
  if (t.clearBelow !== undefined) {
    if (!enter?.up) ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: 'clearBelow goes with above or atLeast' });
    else if (num(t.clearBelow) !== undefined && num(enter.value) !== undefined && num(t.clearBelow)! > num(enter.value)!)
      ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: `clearBelow (${num(t.clearBelow)}) must not exceed ${enter.key} (${num(enter.value)})` });
  }
  if (t.clearAbove !== undefined) {
    if (!enter || enter.up) ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: 'clearAbove goes with below or atMost' });
    else if (num(t.clearAbove) !== undefined && num(enter.value) !== undefined && num(t.clearAbove)! < num(enter.value)!)
      ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: `clearAbove (${num(t.clearAbove)}) must not be under ${enter.key} (${num(enter.value)})` });
  }
}

/** Time-of-day window in the service's local time: `{from: "22:00", to: "06:00"}` wraps midnight; `days` name the day a window starts. */
export const Schedule = z
  .object({
    from: HHMM,
    to: HHMM,
    days: z.array(z.enum(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'])).optional(),
  })
  .strict();

/**
 * A learned dry-weather reference: the condition's value becomes the reading minus the level this device showed
 * at the same local hour of day on past dry days (median of those days' hourly means). A sample is dry weather
 * when none of the `rain` gauges has reported rain for `dryAfter`; the condition is judged only then, and only
 * once `minDays` such days are known for the hour. Rain leaves its state as it is (an open alert stays open).
 */
export const Baseline = z
  .object({
    days: z.number().int().min(1).max(60).default(14),
    minDays: z.number().int().min(1).default(7),
    dryAfter: Duration.default(86_400_000),
    rain: z.array(Id).min(1),
  })
  .strict()
  .refine((b) => b.minDays <= b.days, { message: 'minDays cannot exceed days', path: ['minDays'] });

export const MetricCondition = z
  .object({
    metric: MetricName,
    above: Threshold.optional(),
    below: Threshold.optional(),
    atLeast: Threshold.optional(),
    atMost: Threshold.optional(),
    clearBelow: Threshold.optional(),
    clearAbove: Threshold.optional(),
    for: Duration.optional(),
    clearFor: Duration.optional(),
    window: Duration.optional(),
    agg: Agg.optional(),
    /** `agg: degreeHours`: the base above which value × hours add up (THI-hours above the comfort limit). */
    base: Threshold.optional(),
    /** Only samples taken in this local time-of-day window count in the window (e.g. the night's hours). */
    hours: z.object({ from: HHMM, to: HHMM }).strict().optional(),
    baseline: Baseline.optional(),
    levels: z.array(Level).min(1).optional(),
    /** Read this device instead of the one the rule instance watches (e.g. the site's rain gauge). */
    device: Id.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const thresholds = (['above', 'below', 'atLeast', 'atMost'] as const).filter((k) => c[k] !== undefined).length;
    if (c.levels && thresholds > 0) ctx.addIssue({ code: 'custom', path: ['levels'], message: 'use either levels or above/below/atLeast/atMost, not both' });
    if (c.levels && (c.clearBelow !== undefined || c.clearAbove !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: [c.clearBelow !== undefined ? 'clearBelow' : 'clearAbove'],
        message: 'with levels, give each level its own clearBelow / clearAbove',
      });
    if (!c.levels) checkThresholds(c, ctx, 'a metric condition needs exactly one of above, below, atLeast, atMost or levels');
    if ((c.window === undefined) !== (c.agg === undefined))
      ctx.addIssue({ code: 'custom', path: [c.window === undefined ? 'window' : 'agg'], message: 'window and agg go together' });
    if (c.window === 0) ctx.addIssue({ code: 'custom', path: ['window'], message: 'a window must be longer than 0' });
    if ((c.agg === 'degreeHours') !== (c.base !== undefined))
      ctx.addIssue({ code: 'custom', path: ['base'], message: 'agg degreeHours needs a base (the value above which hours count), and base goes only with it' });
    if (c.hours && !c.window) ctx.addIssue({ code: 'custom', path: ['hours'], message: 'hours picks the samples of a window: give window and agg too' });
    if (c.baseline && (c.window || c.device))
      ctx.addIssue({ code: 'custom', path: ['baseline'], message: 'a baseline condition reads its own device, without window or device' });
    if (c.levels) checkLevelOrder(c.levels, ctx);
  });

/** Graded levels escalate in list order, so thresholds must get strictly worse and point one way. */
function checkLevelOrder(levels: z.output<typeof Level>[], ctx: z.RefinementCtx): void {
  const up = enterOf(levels[0])?.up;
  const names = new Set<string>();
  levels.forEach((l, i) => {
    const enter = enterOf(l);
    if (enter && enter.up !== up)
      ctx.addIssue({ code: 'custom', path: ['levels', i], message: 'all levels of a condition rise (above / atLeast), or all fall (below / atMost)' });
    if (names.has(l.name)) ctx.addIssue({ code: 'custom', path: ['levels', i, 'name'], message: `duplicate level name "${l.name}"` });
    names.add(l.name);
    if (i === 0 || !enter) return;
    const prev = num(enterOf(levels[i - 1])?.value);
    const cur = num(enter.value);
    if (prev !== undefined && cur !== undefined && (up ? cur <= prev : cur >= prev))
      ctx.addIssue({
        code: 'custom',
        path: ['levels', i, enter.key],
        message: 'list levels from mildest to worst: each threshold must be beyond the previous one',
      });
  });
}

export const StaleCondition = z.object({ stale: Duration, device: Id.optional() }).strict();

/**
 * What an actuator of the instance's zone is doing, from its own state reports: `{actuator: fan, is: on, for: 20m}`
 * holds once a fan of the zone has reported on for 20 min (any of them, when the zone has several). With
 * `device`, that actuator wherever it is.
 */
export const ActuatorCondition = z
  .object({ actuator: z.enum(ACTUATOR_TYPES), is: z.enum(['on', 'off']), for: Duration.optional(), device: Id.optional() })
  .strict();

export type MetricConditionT = z.output<typeof MetricCondition>;
export type StaleConditionT = z.output<typeof StaleCondition>;
export type ActuatorConditionT = z.output<typeof ActuatorCondition>;
export type ConditionT = MetricConditionT | StaleConditionT | ActuatorConditionT | { all: ConditionT[] } | { any: ConditionT[] };

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
  'all' in o
    ? AllCondition
    : 'any' in o
      ? AnyCondition
      : 'stale' in o
        ? StaleCondition
        : 'actuator' in o
          ? ActuatorCondition
          : 'metric' in o
            ? MetricCondition
            : 'a condition needs metric, stale, actuator, all or any',
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
 * `message` may use {value}, {level}, {metric}, {site}, {zone}, {device}, {rule}, and {mg_m3}: a gas value (nh3,
 * h2s) in mg/m³ at 20 °C and 101.325 kPa (core/gas-units.ts). `clearMessage` is the message of the cleared event,
 * with the clearing value (default: "cleared: " and `message` filled with the clearing value). Each is a plain text
 * or `{ en, zh }`.
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
  .object({
    site: Id.optional(),
    zone: Id.optional(),
    kind: z.enum(ZONE_KINDS).optional(),
    device: Id.optional(),
    /** Zones whose attributes have these values (`{ type: sump }`, `{ type: pipe, sewer: storm }`). */
    attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
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
    if (seen.has(parsed.data.id))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: named(`duplicate rule id "${parsed.data.id}": rule ids must be unique`) });
    seen.add(parsed.data.id);
    out.push(parsed.data);
  });
  return out;
});
