import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { manages, siteOf } from '../access/site-scope.js';
import type { RouteContext } from '../deps.js';
import { AuditQueryString, AuditResponse } from '../access/schemas.js';
import { parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';

/**
 * The audit log (admin), newest first. A site-limited admin sees the entries of their sites, and the site-less
 * ones (logins, logouts, user changes) of the users and displays they manage.
 */
export function auditRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/audit',
      {
        config: { access: 'admin', site: siteOf.list() },
        schema: {
          ...doc(
            'admin',
            'audit',
            'Who did what, when, from which address, and the outcome: logins (also failed), logouts, acknowledgements, commands, mode switches, rule and user changes, share links and display tokens',
          ),
          querystring: AuditQueryString,
          response: { 200: AuditResponse, ...errs('admin', 400) },
        },
      },
      async (request) => {
        const q = request.query;
        const { scope } = request;
        const now = ctx.now();
        const visible = scope.limited
          ? {
              sites: scope.sites,
              actors: [
                request.session!.user,
                ...ctx.users
                  .list()
                  .filter((u) => manages(scope, u.sites))
                  .map((u) => u.name),
                ...ctx.displays
                  .list()
                  .filter((d) => manages(scope, d.sites))
                  .map((d) => `display:${d.name}`),
              ],
            }
          : undefined;
        const entries = ctx.audit.query({
          from: parseTimeArg(q.from ?? '-7d', now),
          to: q.to ? parseTimeArg(q.to, now)! + 1 : undefined,
          actor: q.user,
          action: q.action,
          limit: q.limit,
          visible,
        });
        return { entries };
      },
    );
  };
}
