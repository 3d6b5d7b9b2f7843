import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { siteOf } from '../access/site-scope.js';
import type { RouteContext } from '../deps.js';
import { doc, errs } from './doc.js';

/** Health for load balancers and Prometheus metrics for scrapers; /metrics is public unless configured otherwise. */
export function opsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health',
      {
        config: { access: 'public', site: siteOf.none('service health, no site data') },
        schema: {
          ...doc('public', 'operations', 'Service health: 200 when ok or degraded, 503 when down'),
          response: {
            200: z.object({ status: z.enum(['ok', 'degraded', 'down']), checks: z.record(z.string(), z.unknown()) }),
            503: z.object({ status: z.enum(['ok', 'degraded', 'down']), checks: z.record(z.string(), z.unknown()) }),
          },
        },
      },
      async (_request, reply) => {
        const health = await ctx.deps.health().catch((err: Error) => ({ status: 'down' as const, checks: { health: err.message } }));
        return reply.code(health.status === 'down' ? 503 : 200).send(health);
      },
    );

    const metricsAccess = ctx.options.metricsPublic ? 'public' : 'admin';
    app.get(
      '/metrics',
      {
        config: { access: metricsAccess, site: siteOf.none('process-wide counters without site labels') },
        schema: { ...doc(metricsAccess, 'operations', 'Prometheus text exposition'), response: { 200: z.string(), ...errs(metricsAccess) } },
      },
      async (_request, reply) => {
        reply.type('text/plain; version=0.0.4; charset=utf-8');
        return ctx.deps.metricsText();
      },
    );
  };
}
