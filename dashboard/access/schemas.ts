import { z } from 'zod';
import { ZONE_KINDS } from '../../core/domain.js';
import { Id, LocalTextView, MetricName, TimeArg } from '../schemas.js';
import { TIME_ARG_HELP } from '../time.js';

/** Request and response shapes of share links, display tokens and the audit log (validation and OpenAPI). */
export const TokenId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an id from the list');
export const TokenState = z.enum(['active', 'expired', 'revoked']);
export const ShareBody = z
  .object({
    site: Id,
    zone: Id,
    metrics: z.array(MetricName).min(1).max(20).optional().describe('the metrics to show; absent = every metric of the zone'),
    expiresInDays: z.number().int().min(1).max(400).default(30).describe('the link works for this many days (default 30)'),
  })
  .strict();
export const ShareInfo = z.object({
  id: z.string(),
  site: z.string(),
  zone: z.string(),
  metrics: z.array(z.string()).optional(),
  createdBy: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  revokedAt: z.number().optional(),
  revokedBy: z.string().optional(),
  lastUsedAt: z.number().optional().describe('last time the link was opened (to the minute)'),
  uses: z.number(),
  state: TokenState,
});
export const ShareCreated = z.object({ id: z.string(), token: z.string().describe('shown once; only its hash is kept'), url: z.string(), share: ShareInfo });
export const SharesResponse = z.object({ shares: z.array(ShareInfo) });
export const IdParams = z.object({ id: TokenId });
export const TokenParams = z.object({ token: z.string().min(1).max(200) });
const SharedSeries = z.object({ device: z.string(), name: LocalTextView.optional(), metric: z.string(), unit: z.string() });
export const SharedZone = z.object({
  site: z.object({ id: z.string(), name: LocalTextView.optional(), timeZone: z.string().describe("the site's IANA zone: the page tells times in it") }),
  zone: z.object({ id: z.string(), name: LocalTextView.optional(), kind: z.enum(ZONE_KINDS) }),
  values: z.array(SharedSeries.extend({ value: z.number().optional(), ts: z.number().optional() })),
  history: z.array(
    SharedSeries.extend({
      buckets: z.array(z.object({ ts: z.number(), mean: z.number(), min: z.number(), max: z.number(), count: z.number(), sum: z.number().optional() })),
    }),
  ),
  from: z.number(),
  to: z.number(),
  everyMs: z.number(),
  expiresAt: z.number(),
});
export const DisplayBody = z
  .object({
    name: z.string().trim().min(1).max(64).describe('which screen, e.g. "control room wall"'),
    sites: z.array(Id).min(1).max(500).optional().describe('the sites the screen shows; absent = yours (every site for an admin of every site)'),
    expiresInDays: z.number().int().min(1).max(3650).optional().describe('absent = until revoked'),
  })
  .strict();
export const DisplayInfo = z.object({
  id: z.string(),
  name: z.string(),
  sites: z.array(z.string()).optional(),
  createdBy: z.string(),
  createdAt: z.number(),
  expiresAt: z.number().optional(),
  revokedAt: z.number().optional(),
  revokedBy: z.string().optional(),
  lastUsedAt: z.number().optional(),
  uses: z.number(),
  state: TokenState,
});
export const DisplayCreated = z.object({
  id: z.string(),
  token: z.string().describe('shown once; only its hash is kept'),
  url: z.string(),
  display: DisplayInfo,
});
export const DisplaysResponse = z.object({ displays: z.array(DisplayInfo) });
export const AuditQueryString = z
  .object({
    from: TimeArg.optional().describe(`default -7d. ${TIME_ARG_HELP}`),
    to: TimeArg.optional(),
    user: z.string().max(80).optional().describe('who acted (a user name, display:<name>, (unknown user))'),
    action: z.string().max(40).optional().describe('e.g. login, actuator.command, share.create'),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
  })
  .strict();
export const AuditEntryView = z.object({
  seq: z.number(),
  ts: z.number(),
  actor: z.string(),
  address: z.string().optional(),
  action: z.string(),
  site: z.string().optional(),
  target: z.string().optional(),
  outcome: z.enum(['ok', 'refused', 'failed']),
  status: z.number().optional(),
  code: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export const AuditResponse = z.object({ entries: z.array(AuditEntryView) });

export type ShareInfoT = z.infer<typeof ShareInfo>;
export type SharedZoneT = z.infer<typeof SharedZone>;
export type DisplayInfoT = z.infer<typeof DisplayInfo>;
export type AuditEntryT = z.infer<typeof AuditEntryView>;
