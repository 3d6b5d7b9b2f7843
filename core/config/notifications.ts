import { z } from 'zod';
import { ID_PATTERN, ZONE_KINDS } from '../domain.js';
import { Duration } from './duration.js';

/**
 * The `channels` and `notifications` sections of the farm file (SPEC "Configuration file"): where notifications
 * go and which alerts go where. core/config/schema.ts puts them into the one farm-file schema and checks that the
 * ids they name exist.
 */
const Id = z.string().regex(ID_PATTERN, 'ids are lower-case letters, digits, _ and -, starting with a letter or digit (max 64)');
const HttpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

/** What every channel may set besides its type's own fields. */
const common = {
  id: Id,
  /**
   * Messages this channel may take per minute; more wait their turn. Defaults: DingTalk and WeCom group robots
   * take 20 a minute (their documented limits), webhooks 60, email 30.
   */
  ratePerMinute: z.number().int().min(1).max(6000).optional(),
};

export const WebhookChannel = z.object({ ...common, type: z.literal('webhook'), url: HttpUrl, headers: z.record(z.string(), z.string()).optional() }).strict();
export const DingTalkChannel = z
  .object({
    ...common,
    type: z.literal('dingtalk'),
    url: HttpUrl,
    /** The robot's "加签" secret (SEC…): requests are signed with it (timestamp + HMAC-SHA256). Omit for keyword-only robots. */
    secret: z.string().min(1).optional(),
  })
  .strict();
export const WeComChannel = z.object({ ...common, type: z.literal('wecom'), url: HttpUrl }).strict();
export const EmailChannel = z
  .object({
    ...common,
    type: z.literal('email'),
    to: z.array(z.email({ error: 'expected an e-mail address like duty@example.org' })).min(1),
    /** Sender address; default the user of SMTP_URL, else farmwatch@localhost. */
    from: z.string().min(3).optional(),
  })
  .strict();

export const Channel = z.discriminatedUnion('type', [WebhookChannel, DingTalkChannel, WeComChannel, EmailChannel], {
  error: 'a channel has a type: webhook, dingtalk, wecom or email',
});
export type ChannelT = z.output<typeof Channel>;
export type ChannelType = ChannelT['type'];

/** One value or a list of them; always a list after parsing. */
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

export const RouteMatch = z
  .object({
    site: oneOrMany(Id).optional(),
    zone: oneOrMany(Id).optional(),
    kind: oneOrMany(z.enum(ZONE_KINDS)).optional(),
    /** Rule ids, including the built-in ones (system:actuator, system:failsafe). */
    rule: oneOrMany(z.string().min(1)).optional(),
    severity: oneOrMany(z.enum(['info', 'warning', 'critical'])).optional(),
  })
  .strict();

const Positive = Duration.refine((ms) => ms > 0, { message: 'must be longer than 0' });

export const NotificationRoute = z
  .object({
    /** Omitted or empty: every alert. */
    match: RouteMatch.default({}),
    channels: z.array(Id).min(1),
    /** Sent again this often while the alert is raised and not acknowledged. */
    repeat: Positive.optional(),
    /** Not acknowledged this long after it was raised: also sent to these channels. */
    escalate: z
      .object({ after: Positive, channels: z.array(Id).min(1) })
      .strict()
      .optional(),
  })
  .strict();
export type NotificationRouteT = z.output<typeof NotificationRoute>;
export type RouteMatchT = z.output<typeof RouteMatch>;
