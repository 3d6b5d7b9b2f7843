import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseDurationMs } from '../../core/duration.js';
import { METRICS } from '../../core/metrics-catalog.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { ReadingsQuery, ReadingsResponse } from '../schemas.js';
import { autoEveryMs, bucketCount, parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';
import { checkDeviceFilter } from './lookup.js';

/**
 * Readings history of one metric, aggregated by the store into buckets of `every` (mean, min, max, count, and sum
 * for increments). Each series is cut in the time zone of its own site (SPEC "Identity"): a query spanning sites in
 * different zones asks the store once per site, so every device's `1d` buckets start at its own local midnight, and
 * each series says its site and zone.
 */
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
        const { farm } = ctx.deps;
        const sites = q.device ? [farm.device(q.device)!.site] : q.site ? [q.site] : [...new Set(farm.zones().filter((z) => !q.zone || z.zone === q.zone).map((z) => z.site))];
        const zones = new Set(sites.map((s) => farm.timeZone(s)));
        const filter = { zone: q.zone, device: q.device, metric: q.metric, from, to, everyMs };
        const found =
          zones.size <= 1
            ? await ctx.deps.store.history({ ...filter, site: q.site, timeZone: [...zones][0] ?? 'UTC' })
            : (await Promise.all(sites.map((site) => ctx.deps.store.history({ ...filter, site, timeZone: farm.timeZone(site) })))).flat().sort((a, b) => a.device.localeCompare(b.device));
        const series = found.map((s) => {
          const site = farm.device(s.device)?.site ?? q.site ?? '';
          return { device: s.device, site, timeZone: farm.timeZone(site), buckets: s.buckets };
        });
        return { metric: q.metric, unit: METRICS[q.metric]?.unit ?? '', from, to, everyMs, series };
      },
    );
  };
}
