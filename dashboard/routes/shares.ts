import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { noteAudit } from '../access/audit-hook.js';
import { NOT_FOUND } from '../access/not-found.js';
import { siteOf } from '../access/site-scope.js';
import { zoneSensorMetrics } from '../access/zone-metrics.js';
import { requestSession } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { IdParams, ShareBody, ShareCreated, ShareInfo, SharesResponse } from '../access/schemas.js';
import { publicBase } from './public-base.js';
import { doc, errs } from './doc.js';

const DAY_MS = 86_400_000;

/**
 * Share links (operator): one zone, optionally some of its metrics, read-only for anyone with the link, for N
 * days. The token is in the answer once; the list shows each link's state and last use; DELETE revokes.
 */
export function sharesRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { farm } = ctx.deps;
  return async (app) => {
    app.post(
      '/api/shares',
      {
        config: { access: 'operator', site: siteOf.filters('body', ['site', 'zone']), audit: 'share.create' },
        schema: {
          ...doc('operator', 'shares', "Share one zone read-only (e.g. with a plot's renter): answers the link's token and URL, shown once"),
          body: ShareBody,
          response: { 201: ShareCreated, ...errs('operator', 400, 404, 503) },
        },
      },
      async (request, reply) => {
        const { site, zone, metrics, expiresInDays } = request.body;
        const indexed = farm.zone(site, zone)!;
        const offered = new Set(zoneSensorMetrics(indexed).flatMap((s) => s.metrics));
        const missing = metrics?.find((m) => !offered.has(m));
        if (missing)
          throw new ApiError(
            'VALIDATION',
            `body.metrics: zone ${zone} has no sensor measuring ${missing}; it has ${[...offered].join(', ') || 'no sensors'}.`,
            [{ path: 'body.metrics', message: `${missing} is not measured in this zone` }],
          );
        const expiresAt = ctx.now() + expiresInDays * DAY_MS;
        const { token, share } = await ctx.shares.create({ site, zone, metrics, expiresAt, by: requestSession(request).user });
        noteAudit(request, { target: share.id, site, detail: { zone, ...(metrics ? { metrics } : {}), expiresAt } });
        return reply.code(201).send({ id: share.id, token, url: `${publicBase(request, ctx.options.publicUrl)}/share/${token}`, share });
      },
    );

    app.get(
      '/api/shares',
      {
        config: { access: 'operator', site: siteOf.list() },
        schema: {
          ...doc('operator', 'shares', 'Share links with their state (active, expired, revoked) and last use; never the tokens'),
          response: { 200: SharesResponse, ...errs('operator') },
        },
      },
      async (request) => ({ shares: ctx.shares.list().filter((s) => request.scope.allows(s.site)) }),
    );

    app.delete(
      '/api/shares/:id',
      {
        config: {
          access: 'operator',
          site: siteOf.resource('share', (request) => {
            const { id } = request.params as { id: string };
            const share = ctx.shares.get(id);
            return share ? { sites: [share.site], notFound: NOT_FOUND.share(id) } : undefined;
          }),
          audit: 'share.revoke',
        },
        schema: {
          ...doc('operator', 'shares', 'Revoke a share link: its page and API answer 404 from now on'),
          params: IdParams,
          response: { 200: ShareInfo, ...errs('operator', 400, 404, 503) },
        },
      },
      async (request) => {
        const share = await ctx.shares.revoke(request.params.id, requestSession(request).user);
        if (!share) throw new ApiError('NOT_FOUND', NOT_FOUND.share(request.params.id));
        noteAudit(request, { site: share.site, detail: { zone: share.zone } });
        return share;
      },
    );
  };
}
