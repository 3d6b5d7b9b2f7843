import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requestSession } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { silenceActive, type Silence as SilenceRecord } from '../../notifications/silences.js';
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
import { checkDeviceFilter } from './lookup.js';

/**
 * Silences and maintenance windows (operators), notification deliveries (viewers) and channel tests (admins):
 * the API side of the notifications component (notifications/, reached through its handle).
 */
export function notificationsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    const n = ctx.deps.notifications;
    const shown = (s: SilenceRecord) => ({ ...s, active: silenceActive(s, ctx.now()) });

    app.get(
      '/api/silences',
      { schema: { ...doc('viewer', 'silences', 'Silences and maintenance windows: active ones (and those ended in the last 7 days with state=all)'), querystring: SilencesQuery, response: { 200: SilencesResponse, ...errs('viewer', 400, 503) } } },
      async (request) => ({ silences: (await n.silences(request.query.state === 'all')).map(shown) }),
    );

    app.post(
      '/api/silences',
      {
        config: { access: 'operator' },
        schema: {
          ...doc('operator', 'silences', 'Silence alerts of a site, zone, device or rule until a time (or for some minutes): they are still recorded and shown, but send nothing'),
          body: SilenceBody,
          response: { 201: SilenceResponse, ...errs('operator', 400, 404, 503) },
        },
      },
      async (request, reply) => {
        const b = request.body;
        checkDeviceFilter(ctx.deps.config, ctx.deps.farm, b.match);
        const now = ctx.now();
        const startsAt = b.from ? parseTimeArg(b.from, now)! : now;
        const endsAt = b.forMinutes !== undefined ? Math.max(startsAt, now) + b.forMinutes * 60_000 : parseTimeArg(b.until!, now)!;
        if (endsAt <= now || endsAt <= startsAt)
          throw new ApiError('VALIDATION', 'until must be later than now (and than from): give a time in the future, or forMinutes.', [{ path: 'body.until', message: 'must be in the future' }]);
        const user = requestSession(request).user;
        const silence = await n.addSilence({ match: b.match, startsAt, endsAt, reason: b.reason }, user);
        request.log.info({ user, silence: silence.id, match: silence.match, endsAt }, 'silence created');
        return reply.code(201).send({ silence: shown(silence) });
      },
    );

    app.delete(
      '/api/silences/:id',
      { config: { access: 'operator' }, schema: { ...doc('operator', 'silences', 'End a silence now'), params: SilenceParams, response: { 200: SilenceResponse, ...errs('operator', 400, 404, 503) } } },
      async (request) => {
        const user = requestSession(request).user;
        const silence = await n.endSilence(request.params.id, user);
        if (!silence) throw new ApiError('NOT_FOUND', `There is no active silence "${request.params.id}"; it may have ended. GET /api/silences lists them.`);
        request.log.info({ user, silence: silence.id }, 'silence ended');
        return { silence: shown(silence) };
      },
    );

    app.get(
      '/api/notifications',
      {
        schema: {
          ...doc('viewer', 'notifications', 'Notification deliveries, newest first: each message to a channel with its alerts, time, attempts and outcome'),
          querystring: DeliveriesQuery,
          response: { 200: DeliveriesResponse, ...errs('viewer', 400, 503) },
        },
      },
      async (request) => {
        const q = request.query;
        const now = ctx.now();
        const from = parseTimeArg(q.from ?? '-7d', now)!;
        const to = parseTimeArg(q.to ?? 'now', now)! + 1;
        return { deliveries: await n.deliveries({ alert: q.alert, channel: q.channel, from, to, limit: q.limit }) };
      },
    );

    app.post(
      '/api/channels/:id/test',
      {
        config: { access: 'admin' },
        schema: {
          ...doc('admin', 'notifications', 'Send a test message to a channel now; answers with the delivery after its first attempt (or as it stands after a few seconds)'),
          params: ChannelParams,
          response: { 200: ChannelTestResponse, ...errs('admin', 400, 404, 503) },
        },
      },
      async (request) => {
        const user = requestSession(request).user;
        const delivery = await n.testChannel(request.params.id, user);
        request.log.info({ user, channel: request.params.id, outcome: delivery.outcome }, 'channel tested');
        return { delivery };
      },
    );
  };
}
