import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requestSession } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { AckResponse, AlertParams, AlertsQuery, AlertsResponse } from '../schemas.js';
import { parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';
import { requireSite } from './lookup.js';

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

/** Active alerts (from the rules engine), alert history (from the store), acknowledging. */
export function alertsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/alerts',
      {
        schema: {
          ...doc('viewer', 'alerts', 'Active alerts, worst first (state=active), or alert events from history (state=all)'),
          querystring: AlertsQuery,
          response: { 200: AlertsResponse, ...errs('viewer', 400, 404, 503) },
        },
      },
      async (request) => {
        const q = request.query;
        if (q.site) requireSite(ctx.deps.config, q.site);
        if (q.state === 'active') {
          const alerts = (await ctx.deps.rules.activeAlerts())
            .filter((a) => !q.site || a.site === q.site)
            .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.ts - a.ts)
            .slice(0, q.limit);
          return { alerts };
        }
        const now = ctx.now();
        const from = parseTimeArg(q.from ?? '-24h', now)!;
        const to = parseTimeArg(q.to ?? 'now', now)! + 1;
        const alerts = await ctx.deps.store.alerts({ from, to, site: q.site, limit: q.limit });
        return { alerts: [...alerts].sort((a, b) => b.ts - a.ts) };
      },
    );

    app.post(
      '/api/alerts/:id/ack',
      { config: { access: 'operator' }, schema: { ...doc('operator', 'alerts', 'Acknowledge an active alert'), params: AlertParams, response: { 200: AckResponse, ...errs('operator', 400, 404) } } },
      async (request) => {
        const alert = await ctx.deps.rules.acknowledge(request.params.id, requestSession(request).user);
        if (!alert) throw new ApiError('NOT_FOUND', `There is no active alert "${request.params.id}"; it may have cleared. GET /api/alerts?state=active lists them.`);
        return { alert };
      },
    );
  };
}
