import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FarmConfigT } from '../../core/config/schema.js';
import type { FarmIndex } from '../../core/farm-index.js';
import { silenceActive, type Silence as SilenceRecord, type SilenceMatch } from '../../notifications/silences.js';
import { noteAudit } from '../access/audit-hook.js';
import { NOT_FOUND } from '../access/not-found.js';
import { siteOf, type ResourceClaim, type SiteScope } from '../access/site-scope.js';
import { requestSession } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import {
  ChannelParams,
  ChannelTestResponse,
  DeliveriesQuery,
  DeliveriesResponse,
  SilenceBody,
  SilenceParams,
  SilenceResponse,
  SilencesQuery,
  SilencesResponse,
} from '../schemas.js';
import { parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';

/**
 * Silences and maintenance windows (operators), notification deliveries (viewers) and channel tests (admins):
 * the API side of the notifications component (notifications/, reached through its handle).
 *
 * Sites: a silence belongs to the sites its match names (a device's, a zone's, the site; a silence by rule alone to
 * every site), so a site-limited user sees, makes and ends only silences within their sites. A delivery belongs to
 * its site (a channel test to none: only users of every site see those). Channels are farm-wide: only an admin of
 * every site tests one.
 */
const NO_SILENCE = (id: string) => `There is no active silence "${id}"; it may have ended. GET /api/silences lists them.`;
const NO_CHANNEL = (id: string) => `There is no channel "${id}" in the farm file. Channels are under channels: in the farm file.`;
/** A site id no farm has: a claim on it is refused like a missing site, whoever asks. */
const NOWHERE = '';

/** The sites a silence's match covers, and the 404 a user outside them (or naming what does not exist) gets. */
export function silenceClaim(match: SilenceMatch, config: Pick<FarmConfigT, 'sites'>, farm: Pick<FarmIndex, 'device' | 'zones'>): ResourceClaim {
  if (match.site && !config.sites.some((s) => s.id === match.site)) return { sites: [match.site], notFound: NOT_FOUND.site(match.site) };
  if (match.device) return { sites: [farm.device(match.device)?.site ?? NOWHERE], notFound: NOT_FOUND.device(match.device) };
  if (match.zone) {
    const sites = farm
      .zones()
      .filter((z) => z.zone === match.zone && (!match.site || z.site === match.site))
      .map((z) => z.site);
    return { sites: sites.length > 0 ? sites : [NOWHERE], notFound: NOT_FOUND.zone(match.zone, match.site) };
  }
  if (match.site) return { sites: [match.site], notFound: NOT_FOUND.site(match.site) };
  return { sites: 'all', notFound: 'A silence by rule alone covers every site, and you may act on some only: name a site, zone or device of yours as well.' };
}

const within = (scope: SiteScope, claim: ResourceClaim) => (claim.sites === 'all' ? !scope.limited : claim.sites.every((s) => scope.allows(s)));

export function notificationsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    const n = ctx.deps.notifications;
    const { config, farm } = ctx.deps;
    const shown = (s: SilenceRecord) => ({ ...s, active: silenceActive(s, ctx.now()) });

    app.get(
      '/api/silences',
      {
        config: { site: siteOf.list() },
        schema: {
          ...doc('viewer', 'silences', 'Silences and maintenance windows: active ones (and those ended in the last 7 days with state=all)'),
          querystring: SilencesQuery,
          response: { 200: SilencesResponse, ...errs('viewer', 400, 503) },
        },
      },
      async (request) => ({
        silences: (await n.silences(request.query.state === 'all')).filter((s) => within(request.scope, silenceClaim(s.match, config, farm))).map(shown),
      }),
    );

    app.post(
      '/api/silences',
      {
        config: {
          access: 'operator',
          site: siteOf.resource('silence-match', (request) => silenceClaim((request.body as { match: SilenceMatch }).match, config, farm)),
          audit: 'silence.create',
        },
        schema: {
          ...doc(
            'operator',
            'silences',
            'Silence alerts of a site, zone, device or rule until a time (or for some minutes): they are still recorded and shown, but send nothing',
          ),
          body: SilenceBody,
          response: { 201: SilenceResponse, ...errs('operator', 400, 404, 503) },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const now = ctx.now();
        const startsAt = b.from ? parseTimeArg(b.from, now)! : now;
        const endsAt = b.forMinutes !== undefined ? Math.max(startsAt, now) + b.forMinutes * 60_000 : parseTimeArg(b.until!, now)!;
        if (endsAt <= now || endsAt <= startsAt)
          throw new ApiError('VALIDATION', 'until must be later than now (and than from): give a time in the future, or forMinutes.', [
            { path: 'body.until', message: 'must be in the future' },
          ]);
        const silence = await n.addSilence({ match: b.match, startsAt, endsAt, reason: b.reason }, requestSession(request).user);
        noteAudit(request, { target: silence.id, detail: { match: silence.match, startsAt, endsAt, reason: silence.reason } });
        return reply.code(201).send({ silence: shown(silence) });
      },
    );

    app.delete(
      '/api/silences/:id',
      {
        config: {
          access: 'operator',
          site: siteOf.resource('silence', async (request) => {
            const id = (request.params as { id: string }).id;
            const s = (await n.silences()).find((x) => x.id === id);
            return s && { ...silenceClaim(s.match, config, farm), notFound: NO_SILENCE(id) };
          }),
          audit: 'silence.end',
        },
        schema: {
          ...doc('operator', 'silences', 'End a silence now'),
          params: SilenceParams,
          response: { 200: SilenceResponse, ...errs('operator', 400, 404, 503) },
        },
      },
      async (request) => {
        const silence = await n.endSilence(request.params.id, requestSession(request).user);
        if (!silence) throw new ApiError('NOT_FOUND', NO_SILENCE(request.params.id));
        noteAudit(request, { detail: { match: silence.match, reason: silence.reason } });
        return { silence: shown(silence) };
      },
    );

    app.get(
      '/api/notifications',
      {
        config: { site: siteOf.list() },
        schema: {
          ...doc('viewer', 'notifications', 'Notification deliveries, newest first: each message to a channel with its alerts, time, attempts and outcome'),
          querystring: DeliveriesQuery,
          response: { 200: DeliveriesResponse, ...errs('viewer', 400, 503) },
        },
      },
      async (request) => {
        const q = request.query;
        const { scope } = request;
        const now = ctx.now();
        const from = parseTimeArg(q.from ?? '-7d', now)!;
        const to = parseTimeArg(q.to ?? 'now', now)! + 1;
        const deliveries = await n.deliveries({ alert: q.alert, channel: q.channel, from, to, limit: q.limit });
        return { deliveries: deliveries.filter((d) => (d.site ? scope.allows(d.site) : !scope.limited)) };
      },
    );

    app.post(
      '/api/channels/:id/test',
      {
        config: {
          access: 'admin',
          site: siteOf.resource('channel', (request) => ({ sites: 'all', notFound: NO_CHANNEL((request.params as { id: string }).id) })),
          audit: 'channel.test',
        },
        schema: {
          ...doc(
            'admin',
            'notifications',
            'Send a test message to a channel now; answers with the delivery after its first attempt (or as it stands after a few seconds)',
          ),
          params: ChannelParams,
          response: { 200: ChannelTestResponse, ...errs('admin', 400, 404, 503) },
        },
      },
      async (request) => {
        const delivery = await n.testChannel(request.params.id, requestSession(request).user);
        noteAudit(request, { detail: { outcome: delivery.outcome, error: delivery.error } });
        return { delivery };
      },
    );
  };
}
