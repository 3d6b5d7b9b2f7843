import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseDurationMs } from '../../core/duration.js';
import { METRICS } from '../../core/metrics-catalog.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { ReadingsQuery, ReadingsResponse } from '../schemas.js';
import { autoEveryMs, bucketCount, parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';
import { checkDeviceFilter } from './lookup.js';

/** Readings history of one metric, aggregated by the store into buckets of `every` (mean, min, max, count). */
export function readingsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/readings',
      {
        schema: {
          ...doc('viewer', 'readings', 'History of one metric aggregated into buckets, one series per device'),
          querystring: ReadingsQuery,
          response: { 200: ReadingsResponse, ...errs('viewer', 400, 404, 503) },
        },
      },
      async (request) => {
        const q = request.query;
        checkDeviceFilter(ctx.deps.config, ctx.deps.farm, q);
        const now = ctx.now();
        const from = parseTimeArg(q.from, now)!;
        const to = parseTimeArg(q.to, now)!;
        if (from >= to) throw new ApiError('VALIDATION', `"from" (${new Date(from).toISOString()}) must be before "to" (${new Date(to).toISOString()}).`, [{ path: 'querystring.from', message: 'must be before to' }]);
        const everyMs = q.every ? parseDurationMs(q.every) : autoEveryMs(to - from);
        const buckets = bucketCount(from, to, everyMs);
        if (buckets > ctx.options.maxBuckets)
          throw new ApiError('TOO_MANY_BUCKETS', `That asks for ${buckets} buckets; at most ${ctx.options.maxBuckets} are allowed. Use a larger "every" or a shorter range.`, [
            { path: 'querystring.every', message: `gives ${buckets} buckets (max ${ctx.options.maxBuckets})` },
          ]);
        const series = await ctx.deps.store.history({ site: q.site, zone: q.zone, device: q.device, metric: q.metric, from, to, everyMs });
        return { metric: q.metric, unit: METRICS[q.metric]?.unit ?? '', from, to, everyMs, series };
      },
    );
  };
}
