import { z } from 'zod';
import { ACTUATOR_TYPES, ID_PATTERN, READER_PLACES, ZONE_KINDS } from '../core/domain.js';
import { METRIC_NAMES } from '../core/metrics-catalog.js';
import { parseDurationMs } from '../core/duration.js';
import { REJECT_REASONS } from '../core/events.js';
import { parseTimeArg, TIME_ARG_HELP } from './time.js';

/**
 * The API's request and response shapes. Routes validate with these and the OpenAPI document at /api/docs is
 * generated from them, so the documentation cannot drift from what the server accepts. The page imports the
 * inferred types only (no zod in the browser bundle).
 */
/** A name shown to people: a plain string, or both languages (the page shows the viewer's). */
export const LocalTextView = z.union([z.string(), z.object({ en: z.string(), zh: z.string() })]).meta({ id: 'LocalText' });
export const Id = z.string().regex(ID_PATTERN, 'ids are lower-case letters, digits, _ and -');
export const Role = z.enum(['viewer', 'operator', 'admin']);
export const Severity = z.enum(['info', 'warning', 'critical']);
const METRIC_CHOICES = ['thi', ...METRIC_NAMES] as [string, ...string[]];
export const MetricName = z.enum(METRIC_CHOICES, { message: `metric must be one of ${METRIC_CHOICES.join(', ')}` });

export const TimeArg = z
  .string()
  .refine((v) => parseTimeArg(v, 0) !== undefined, { message: `expected ${TIME_ARG_HELP}` })
  .describe(TIME_ARG_HELP);

export const DurationArg = z
  .string()
  .refine(
    (v) => {
      try {
        return parseDurationMs(v) > 0;
      } catch {
        return false;
      }
    },
    { message: 'expected a duration like 30s, 5m, 1h or 1d' },
  )
  .describe('bucket width: 30s, 5m, 1h, 1d');

// ---- auth
export const LoginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }).strict();
export const Me = z.object({
  user: z.string().describe('the user name, or the name of a wall display'),
  role: Role,
  kind: z.enum(['login', 'display']).describe("display: a wall display's read-only token"),
  expiresAt: z.number().optional().describe('absent for a display token without an end'),
  sites: z.array(z.string()).optional().describe('the sites this session may see; absent = every site'),
});
export const LoginResponse = Me.extend({ token: z.string().describe('send as Authorization: Bearer <token>; also set as the farm_session cookie') });

// ---- sites, devices, latest
const LatestEntry = z.object({ value: z.number(), ts: z.number() });
const PendingCommand = z.object({ id: z.string(), action: z.enum(['on', 'off', 'set']), value: z.number().optional(), reason: z.string(), ts: z.number() });
const Act = z.enum(['on', 'off', 'set']);
const holderBase = {
  action: Act,
  value: z.number().optional().describe('set: the value held'),
  since: z.number().describe('when the holder took the actuator (a rule: when it fired)'),
  decides: z.boolean().describe('this holder decides what the actuator does (precedence: failsafe, floor, operator, rule)'),
};
/** Who holds an actuator: "why is this on?" (core/domain.ts HolderView). */
export const Holder = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('rule'),
      rule: z.string(),
      sensor: z.string().optional(),
      ...holderBase,
      metric: z.string().nullable(),
      reading: z.number().nullable().describe('the value that fired the rule'),
    }),
    z.object({
      kind: z.literal('operator'),
      user: z.string(),
      ...holderBase,
      until: z.number().describe('the hold ends then and the rules take the actuator back'),
    }),
    z.object({ kind: z.literal('failsafe'), zone: z.string(), ...holderBase }),
    z.object({ kind: z.literal('floor'), floor: z.string(), rule: z.string().describe('the active rule that puts the floor in force'), ...holderBase }),
  ])
  .meta({ id: 'Holder' });
export const ActuatorInfo = z.object({
  mode: z.enum(['auto', 'manual']),
  manualUntil: z.number().optional(),
  state: z.enum(['on', 'off']).optional().describe('last state the actuator itself confirmed'),
  value: z.number().optional(),
  stateTs: z.number().optional(),
  pending: PendingCommand.optional().describe('a command sent and not yet acknowledged'),
  holders: z.array(Holder).describe('who holds it, the deciding holder first'),
});
export const DeviceView = z.object({
  id: z.string(),
  name: LocalTextView.optional(),
  role: z.enum(['sensor', 'actuator', 'reader']),
  type: z.enum(ACTUATOR_TYPES).optional(),
  at: z.enum(READER_PLACES).optional().describe('readers: gate (reports in/out), pen or feeder'),
  metrics: z.array(z.string()).optional(),
  status: z.enum(['online', 'offline', 'unknown']),
  statusTs: z.number().optional(),
  lastSeen: z.number().optional(),
  reportEveryMs: z
    .number()
    .optional()
    .describe("how often the device reports (the farm file's reportEvery, else learned from its readings); a value older than twice this is old"),
  latest: z.record(z.string(), LatestEntry),
  actuator: ActuatorInfo.optional(),
});
export const LevelView = z.object({ name: z.string(), above: z.number() });
export const ZoneView = z.object({
  id: z.string(),
  name: LocalTextView.optional(),
  kind: z.enum(ZONE_KINDS),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  fillLevels: z.array(LevelView).optional().describe('drain zones: fill thresholds from the rules, lowest first'),
  headCount: z
    .number()
    .optional()
    .describe('sheds (and zones holding animals): animals whose last gate read put them in the zone; compare attributes.headCount'),
  animalsOut: z.number().optional().describe("animals whose last gate read took them out through this zone's gate (out at pasture)"),
  unknownTags: z.number().optional().describe('of headCount, tags the register does not know'),
  devices: z.array(DeviceView),
});
export const SiteView = z.object({
  id: z.string(),
  name: LocalTextView.optional(),
  timeZone: z.string().describe("IANA zone: times of this site are shown in it (the site's zone, never the viewer's or the server's)"),
  language: z.enum(['en', 'zh-CN']).describe("the language of the site's notifications"),
  operatorHoldMs: z
    .number()
    .describe("how long an operator's command to an actuator in auto mode holds it when it gives no end (the farm file's operatorHold)"),
  activeAlerts: z.number(),
  worstSeverity: Severity.optional(),
  zones: z.array(ZoneView),
});
export const SitesResponse = z.object({ sites: z.array(SiteView) });
export const SiteParams = z.object({ site: Id });
export const DeviceFilter = z.object({ site: Id.optional(), zone: Id.optional(), device: Id.optional() }).strict();
export const LatestResponse = z.object({
  values: z.array(
    z.object({ site: z.string(), zone: z.string(), kind: z.enum(ZONE_KINDS), device: z.string(), metric: z.string(), value: z.number(), ts: z.number() }),
  ),
});

// ---- drainage
export const DrainageResponse = z.object({
  site: z.string(),
  pipes: z.array(z.object({ zone: z.string(), device: z.string(), fill: z.number().optional(), ts: z.number().optional(), level: z.string() })),
  gauges: z.array(
    z.object({
      zone: z.string(),
      device: z.string(),
      rain1hMm: z.number(),
      rain24hMm: z.number(),
      rainTodayMm: z.number().describe("rain since local midnight in the site's zone (dayStart)"),
      level: z.string().optional(),
    }),
  ),
  highWater: z.array(z.object({ zone: z.string(), device: z.string(), minFill: z.number(), hours: z.number() })),
  highWaterRule: z.object({ fillPct: z.number(), hours: z.number(), dryRainMm: z.number() }),
  asOf: z.number().describe('server time (epoch ms) the rainfall windows end at: a reading stamped later is not in the totals'),
  timeZone: z.string().describe("the site's IANA time zone"),
  dayStart: z.number().describe("local midnight of today in the site's zone (epoch ms): where rainTodayMm starts"),
});

// ---- readings
export const ExportFormat = z.enum(['json', 'csv']).optional().describe('csv: a CSV download (also with Accept: text/csv)');
export const ExportLang = z.enum(['en', 'zh', 'zh-CN']).optional().describe('language of the CSV header; default from Accept-Language');
export const ReadingsQuery = DeviceFilter.extend({
  metric: MetricName.optional().describe('required for JSON; a CSV export without it has every metric'),
  format: ExportFormat,
  lang: ExportLang,
  from: TimeArg.default('-24h'),
  to: TimeArg.default('now'),
  every: DurationArg.optional().describe('bucket width; omitted = about 200 buckets over the range'),
});
const Bucket = z.object({
  ts: z.number().describe("bucket start; buckets of 1 h or more start at local boundaries of the series' site zone (1d: local midnight)"),
  mean: z.number(),
  min: z.number(),
  max: z.number(),
  count: z.number(),
  sum: z.number().optional().describe('increment metrics (rain_mm) only: the total that fell in the bucket'),
});
export const ReadingsResponse = z.object({
  metric: z.string(),
  unit: z.string(),
  from: z.number(),
  to: z.number(),
  everyMs: z.number(),
  series: z.array(
    z.object({
      device: z.string(),
      site: z.string(),
      timeZone: z.string().describe("the IANA zone of the device's site, whose local days and hours cut this series' buckets"),
      buckets: z.array(Bucket),
    }),
  ),
});

// ---- alerts
const Cmd = z.enum(['on', 'off', 'set']);
/** core/domain.ts AlertDetail: what a built-in alert is about, for screens that tell it in the reader's language. */
export const AlertDetail = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('actuator'), action: Cmd, value: z.number().optional(), attempts: z.number().describe('tries made before giving up') }),
    z.object({
      kind: z.literal('failsafe'),
      afterMs: z.number(),
      actuators: z.array(z.object({ type: z.enum(ACTUATOR_TYPES), action: z.enum(['on', 'off']) })),
    }),
    z.object({
      kind: z.literal('hold'),
      user: z.string(),
      action: Cmd,
      value: z.number().optional(),
      until: z.number(),
      rules: z.array(z.string()).describe('the rules that want the actuator otherwise'),
      want: Cmd,
      wantValue: z.number().optional(),
    }),
    z.object({
      kind: z.literal('animal-missing'),
      tag: z.string(),
      group: z.string().optional(),
      missingAfterMs: z.number(),
      last: z.object({ device: z.string(), zone: z.string(), direction: z.enum(['in', 'out']).optional(), agoMs: z.number() }).optional(),
    }),
    z.object({ kind: z.literal('head-count'), counted: z.number(), expected: z.number(), out: z.number(), graceMs: z.number() }),
  ])
  .meta({ id: 'AlertDetail' });
export const Alert = z
  .object({
    id: z.string(),
    rule: z.string(),
    site: z.string(),
    zone: z.string(),
    device: z.string().optional(),
    animal: z.string().optional().describe('the ear tag, for an alert about one animal (missing)'),
    severity: Severity,
    level: z.string().nullable().describe('the graded level; null for an ungraded rule'),
    state: z.enum(['raised', 'escalated', 'acknowledged', 'cleared']),
    value: z
      .number()
      .nullable()
      .describe('the value of the condition the event is about (on a clear: the clearing value); null when there is none (a silent sensor)'),
    metric: z.string().nullable().describe('the metric of that value (of an any: rule, the sub-condition that fired); null when there is none'),
    message: z.string(),
    messages: z.object({ en: z.string(), zh: z.string() }).optional().describe('both languages, when the rule gives its message in both'),
    ts: z.number().describe('the time of this event (an acknowledgement or escalation moves it; see raisedAt)'),
    by: z.string().optional(),
    raisedAt: z.number().optional().describe('when the alert was raised (absent in events stored by older versions)'),
    detail: AlertDetail.optional().describe('built-in alerts (system:*): the facts the page writes the text from, in either language'),
    silence: z
      .object({ id: z.string(), endsAt: z.number(), reason: z.string() })
      .optional()
      .describe('active alerts only: the silence holding its notifications back (it is still recorded and shown)'),
  })
  .meta({ id: 'AlertEvent' });
export const AlertsQuery = z
  .object({
    state: z.enum(['active', 'all']).default('active'),
    site: Id.optional(),
    from: TimeArg.optional().describe(`history only (state=all); default -24h. ${TIME_ARG_HELP}`),
    to: TimeArg.optional(),
    limit: z.coerce.number().int().min(1).max(5000).optional().describe('default 500; a CSV export without it has every event in the range'),
    format: ExportFormat,
    lang: ExportLang,
  })
  .strict();
export const AlertsResponse = z.object({ alerts: z.array(Alert) });
export const AlertParams = z.object({ id: z.string().min(1).max(200) });
export const AckResponse = z.object({ alert: Alert });

// ---- actuators and commands
export const ActuatorView = ActuatorInfo.extend({ site: z.string(), zone: z.string(), kind: z.enum(ZONE_KINDS), device: z.string(), type: z.string() });
export const ActuatorsResponse = z.object({ actuators: z.array(ActuatorView) });
export const DeviceParams = z.object({ id: Id });
/** A hold or a manual spell in minutes: at least one, at most 7 days. */
const WeekOfMinutes = z
  .number()
  .int()
  .min(1)
  .max(7 * 24 * 60);
export const CommandBody = z
  .object({
    action: z.enum(['on', 'off', 'set']),
    value: z.number().min(0).max(100).optional().describe('fan speed or shutter opening in %; required for set'),
    until: z
      .union([TimeArg, z.number().int().positive()])
      .optional()
      .describe('auto mode: hold the actuator until this time (ISO 8601 or epoch ms), then the rules take it back; at most 7 days ahead'),
    forMinutes: WeekOfMinutes.optional().describe("auto mode: hold it this many minutes; default: the farm file's operatorHold (30 min)"),
  })
  .strict()
  .refine((b) => b.action !== 'set' || b.value !== undefined, { path: ['value'], message: 'action set needs a value between 0 and 100' })
  .refine((b) => b.until === undefined || b.forMinutes === undefined, { message: 'give until or forMinutes, not both' });
export const CommandResponse = z.object({
  command: PendingCommand,
  hold: Holder.nullable().describe('auto mode: the hold the command started, with its end; null in manual mode'),
});
export const ModeBody = z
  .object({
    mode: z.enum(['auto', 'manual']),
    until: TimeArg.optional().describe('manual until this time, then back to auto'),
    forMinutes: WeekOfMinutes.optional().describe('manual for this many minutes, then back to auto'),
  })
  .strict()
  .refine((b) => !(b.until && b.forMinutes), { message: 'give until or forMinutes, not both' })
  .refine((b) => b.mode === 'manual' || (!b.until && !b.forMinutes), { message: 'until / forMinutes only go with mode manual' });
export const ModeResponse = z.object({ actuator: ActuatorView });
export const CommandsQuery = z
  .object({
    device: Id.optional(),
    site: Id.optional(),
    from: TimeArg.optional(),
    to: TimeArg.optional(),
    limit: z.coerce.number().int().min(1).max(5000).default(200),
  })
  .strict();
export const CommandsResponse = z.object({
  commands: z.array(
    z.object({
      site: z.string(),
      zone: z.string(),
      kind: z.enum(ZONE_KINDS),
      device: z.string(),
      command: PendingCommand,
      outcome: z.enum(['sent', 'acked', 'retried', 'failed']),
      ts: z.number(),
    }),
  ),
});

// ---- rules
const ProblemList = z.array(z.object({ path: z.string(), message: z.string() }));
export const RulesResponse = z.object({ rules: z.array(z.record(z.string(), z.unknown())).describe('rules as in the farm file, durations in ms') });
export const ReplaceRulesBody = z.array(z.unknown()).describe('the complete new rule list (the rule language: docs/rules.md)');
export const ReplaceRulesResponse = RulesResponse.extend({ changed: z.array(z.string()), kept: z.array(z.string()), removed: z.array(z.string()) });
export const DryRunBody = z.object({ rule: z.unknown(), from: TimeArg.default('-24h'), to: TimeArg.default('now') }).strict();
export const DryRunResponse = z.object({
  events: z.array(
    z.object({
      ts: z.number(),
      kind: z.enum(['fired', 'escalated', 'deescalated', 'cleared']),
      site: z.string(),
      zone: z.string(),
      device: z.string().optional(),
      level: z.string().optional(),
      metric: z.string().optional(),
      value: z.number().optional(),
    }),
  ),
});
export { ProblemList };

// ---- silences and notifications
const SilenceMatchBody = z
  .object({ site: Id.optional(), zone: Id.optional(), device: Id.optional(), rule: z.string().min(1).max(100).optional() })
  .strict()
  .refine((m) => Object.values(m).some((v) => v !== undefined), { message: 'name at least one of site, zone, device or rule' });
export const Silence = z
  .object({
    id: z.string(),
    match: z.object({ site: z.string().optional(), zone: z.string().optional(), device: z.string().optional(), rule: z.string().optional() }),
    reason: z.string(),
    startsAt: z.number(),
    endsAt: z.number().describe('the silence ends by itself then'),
    createdBy: z.string(),
    createdAt: z.number(),
    endedAt: z.number().optional().describe('ended early by endedBy'),
    endedBy: z.string().optional(),
    active: z.boolean(),
  })
  .meta({ id: 'Silence' });
export const SilencesQuery = z
  .object({ state: z.enum(['active', 'all']).default('active').describe('all: also those that ended in the last 7 days') })
  .strict();
export const SilencesResponse = z.object({ silences: z.array(Silence) });
export const SilenceBody = z
  .object({
    match: SilenceMatchBody,
    reason: z.string().trim().min(1, 'say why (it is shown with the silence)').max(500),
    until: TimeArg.optional().describe('the silence ends then'),
    forMinutes: z
      .number()
      .int()
      .min(1)
      .max(30 * 24 * 60)
      .optional()
      .describe('the silence ends after this many minutes'),
    from: TimeArg.optional().describe('a maintenance window that starts later; default now'),
  })
  .strict()
  .refine((b) => (b.until === undefined) !== (b.forMinutes === undefined), { message: 'give until or forMinutes (one of them)', path: ['until'] });
export const SilenceParams = z.object({ id: z.string().min(1).max(100) });
export const SilenceResponse = z.object({ silence: Silence });
export const Delivery = z
  .object({
    id: z.string(),
    channel: z.string(),
    channelType: z.string(),
    site: z.string().optional(),
    kind: z.enum(['alerts', 'test']),
    outcome: z.enum(['grouping', 'queued', 'retrying', 'sent', 'failed', 'silenced']),
    ts: z.number().describe('when the delivery was made (the first alert of its group came in)'),
    attempts: z.number(),
    sendAfter: z.number().optional(),
    lastAttemptAt: z.number().optional(),
    nextAttemptAt: z.number().optional(),
    sentAt: z.number().optional(),
    error: z.string().optional(),
    silence: z.string().optional(),
    title: z.string().optional(),
    alerts: z.array(z.object({ id: z.string(), reason: z.enum(['raised', 'escalated', 'repeat', 'escalate', 'cleared']) })),
  })
  .meta({ id: 'Delivery' });
export const DeliveriesQuery = z
  .object({
    alert: z.string().min(1).max(200).optional(),
    channel: Id.optional(),
    from: TimeArg.optional().describe(`default -7d. ${TIME_ARG_HELP}`),
    to: TimeArg.optional(),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
  })
  .strict();
export const DeliveriesResponse = z.object({ deliveries: z.array(Delivery) });
export const ChannelParams = z.object({ id: Id });
export const ChannelTestResponse = z.object({ delivery: Delivery });

// ---- users
export const UserName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'user names are 1-64 letters, digits, _ . and -');
export const UserInfo = z.object({
  name: z.string(),
  role: Role,
  sites: z.array(z.string()).optional().describe('the sites the user may see; absent = every site'),
  source: z.enum(['farm-file', 'api']).describe('farm-file: as in the farm file; api: added or changed over the API'),
});
export const UsersResponse = z.object({ users: z.array(UserInfo) });
export const UserParams = z.object({ name: UserName });
export const PutUserBody = z
  .object({
    role: Role,
    password: z
      .string()
      .min(10, 'a password needs at least 10 characters')
      .max(256)
      .optional()
      .describe('required for a new user; stored only as a scrypt hash'),
    sites: z
      .array(Id)
      .min(1, 'give at least one site, or null for every site')
      .max(500)
      .nullable()
      .optional()
      .describe(
        'the sites the user may see: a list, or null for every site; absent keeps the current sites (every site for a new user of an admin of every site)',
      ),
  })
  .strict();
export const PutUserResponse = z.object({ user: UserInfo, created: z.boolean() });

// ---- rejects
export const RejectsResponse = z.object({
  stats: z.object({
    accepted: z.number(),
    duplicates: z.number(),
    messages: z.number(),
    batches: z.number(),
    tagReads: z.number().describe('ear-tag reads taken'),
    tagDuplicates: z.number().describe('ear-tag reads delivered again (same reader, tag, ts): stored and counted once'),
    rejected: z.record(z.string(), z.number()),
  }),
  rejects: z.array(
    z.object({
      reason: z.enum(REJECT_REASONS as [string, ...string[]]),
      detail: z.string(),
      topic: z.string(),
      device: z.string().optional(),
      ts: z.number(),
      sample: z.string().optional(),
    }),
  ),
});

export type MeT = z.infer<typeof Me>;
export type SiteViewT = z.infer<typeof SiteView>;
export type ZoneViewT = z.infer<typeof ZoneView>;
export type DeviceViewT = z.infer<typeof DeviceView>;
export type ActuatorInfoT = z.infer<typeof ActuatorInfo>;
export type ActuatorViewT = z.infer<typeof ActuatorView>;
export type CommandT = z.infer<typeof PendingCommand>;
export type AlertT = z.infer<typeof Alert>;
export type SilenceT = z.infer<typeof Silence>;
export type DeliveryT = z.infer<typeof Delivery>;
export type ReadingsResponseT = z.infer<typeof ReadingsResponse>;
export type DrainageResponseT = z.infer<typeof DrainageResponse>;

// ---- animals
const TagParam = z
  .string()
  .min(1)
  .max(124)
  .regex(/^[0-9A-Za-z]+$/, 'a tag is an FDX-B number (15 digits) or a UHF EPC (hex)');
export const AnimalView = z.object({
  tag: z.string(),
  scheme: z.enum(['fdx-b', 'epc']),
  known: z.boolean().describe('false: a tag the register does not know (kept and listed, never dropped)'),
  group: z.string().optional(),
  born: z.string().optional(),
  sex: z.enum(['f', 'm']).optional(),
  site: z.string().optional(),
  home: z.string().optional().describe('the zone the animal belongs to (register)'),
  location: z.enum(['in', 'out', 'unplaced']).describe("in: in zone; out: left through zone's gate (out at pasture); unplaced: never read at a gate"),
  zone: z.string().optional().describe('where its last gate read put it (in), or the zone it went out of'),
  since: z.number().optional().describe('time of that gate read'),
  lastSeen: z.number().optional().describe('time of its newest read by any reader'),
  lastSeenBy: z.string().optional(),
  lastSeenZone: z.string().optional(),
  missing: z.boolean().describe('not read for animals.missingAfter'),
});
export const AnimalsQuery = z
  .object({
    site: Id.optional(),
    zone: Id.optional().describe('the zone the animal is in, went out of, or (never read at a gate) belongs to'),
    group: z.string().min(1).max(64).optional(),
    q: z.string().min(1).max(124).optional().describe('part of a tag or group'),
    show: z.enum(['all', 'registered', 'unknown', 'missing']).default('all').describe('unknown: tags read but not in the register'),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();
export const AnimalsResponse = z.object({ total: z.number(), animals: z.array(AnimalView) });
export const AnimalParams = z.object({ tag: TagParam });
export const AnimalQuery = z
  .object({ from: TimeArg.default('-30d'), to: TimeArg.default('now'), limit: z.coerce.number().int().min(1).max(5000).default(1000) })
  .strict();
const TagReadView = z.object({ ts: z.number(), device: z.string(), site: z.string(), zone: z.string(), direction: z.enum(['in', 'out']).optional() });
export const AnimalResponse = z.object({
  animal: AnimalView,
  reads: z.array(TagReadView).describe('newest first'),
  moves: z.array(TagReadView.required({ direction: true })).describe('gate reads that changed where the animal is, newest first'),
});
export const ImportBody = z
  .string()
  .min(1, 'send the CSV as the body (Content-Type: text/csv)')
  .describe('CSV: header tag,group,born,sex,zone (optional site), one animal a line');
export const ImportResponse = z.object({
  lines: z.number(),
  added: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  rejected: z.array(z.object({ line: z.number(), reason: z.string(), text: z.string() })),
});
export type AnimalViewT = z.infer<typeof AnimalView>;
export type AnimalResponseT = z.infer<typeof AnimalResponse>;

export type UserInfoT = z.infer<typeof UserInfo>;
