import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseDurationMs } from '../../core/duration.js';
import { METRICS } from '../../core/metrics-catalog.js';
import { rawPages } from '../../store/pages.js';
import type { HistorySeries } from '../../store/store.js';
import { perSite, siteOf, type SiteScope } from '../access/site-scope.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { sendCsv, wantsCsv } from '../export/csv.js';
import { exportLang } from '../export/labels.js';
import { bucketsTable, readingsTable } from '../export/tables.js';
import { ReadingsQuery, ReadingsResponse } from '../schemas.js';
import { autoEveryMs, bucketCount, parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';

/** Rows per store query of a CSV export: one page is what sits in memory. */
export const EXPORT_PAGE = 10_000;

/**
 * Readings history of one metric, aggregated by the store into buckets of `every` (mean, min, max, count, and sum
 * for increments). Each series is cut in the time zone of its own site (SPEC "Identity"): a query spanning sites in
 * different zones asks the store once per site, so every device's `1d` buckets start at its own local midnight, and
 * each series says its site and zone. As CSV (`?format=csv` / `Accept: text/csv`): every stored reading in the range
 * (or the buckets, with `every`), streamed a store page at a time.
 */
export function readingsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { deps } = ctx;
  // The farm is read at each request: the farm file may be reloaded while the service runs.
  const farm = { timeZone: (site: string) => deps.farm.timeZone(site), device: (id: string) => deps.farm.device(id) };

  /** One metric's buckets for the sites the request may read, each cut in its own site's zone. */
  async function history(
    scope: SiteScope,
    q: { site?: string; zone?: string; device?: string },
    metric: string,
    range: { from: number; to: number; everyMs: number },
  ): Promise<HistorySeries[]> {
    const sites = scope.sites;
    const zones = new Set(sites.map((s) => farm.timeZone(s)));
    const filter = { zone: q.zone, device: q.device, metric, ...range };
    // One store query when one zone cuts every series and nothing has to be left out; else one per site.
    if (zones.size <= 1 && (!scope.limited || sites.length === 1))
      return deps.store.history({ ...filter, site: q.site ?? (scope.limited ? sites[0] : undefined), timeZone: [...zones][0] ?? 'UTC' });
    return (await Promise.all(sites.map((site) => deps.store.history({ ...filter, site, timeZone: farm.timeZone(site) }))))
      .flat()
      .sort((a, b) => a.device.localeCompare(b.device));
  }

  return async (app) => {
    app.get(
      '/api/readings',
      {
        config: { site: siteOf.filters('query') },
        schema: {
          ...doc(
            'viewer',
            'readings',
            'History of one metric aggregated into buckets, one series per device; CSV with ?format=csv or Accept: text/csv (every reading, or the buckets with every)',
          ),
          querystring: ReadingsQuery,
          response: { 200: ReadingsResponse, ...errs('viewer', 400, 404, 503) },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const now = ctx.now();
        const from = parseTimeArg(q.from, now)!;
        const to = parseTimeArg(q.to, now)!;
        if (from >= to)
          throw new ApiError('VALIDATION', `"from" (${new Date(from).toISOString()}) must be before "to" (${new Date(to).toISOString()}).`, [
            { path: 'querystring.from', message: 'must be before to' },
          ]);
        const csv = wantsCsv(q.format, request.headers.accept);
        if (!csv && !q.metric)
          throw new ApiError('VALIDATION', 'querystring.metric: give the metric to chart (only a CSV export may leave it out, for every metric).', [
            { path: 'querystring.metric', message: 'required' },
          ]);
        const everyMs = q.every ? parseDurationMs(q.every) : autoEveryMs(to - from);
        if (!csv || q.every) {
          const buckets = bucketCount(from, to, everyMs);
          if (buckets > ctx.options.maxBuckets)
            throw new ApiError(
              'TOO_MANY_BUCKETS',
              `That asks for ${buckets} buckets; at most ${ctx.options.maxBuckets} are allowed. Use a larger "every" or a shorter range.`,
              [{ path: 'querystring.every', message: `gives ${buckets} buckets (max ${ctx.options.maxBuckets})` }],
            );
        }
        const filter = { site: q.site, zone: q.zone, device: q.device };

        if (!csv) {
          const metric = q.metric!;
          const series = (await history(request.scope, filter, metric, { from, to, everyMs })).map((s) => {
            const site = farm.device(s.device)?.site ?? q.site ?? '';
            return { device: s.device, site, timeZone: farm.timeZone(site), buckets: s.buckets };
          });
          return { metric, unit: METRICS[metric]?.unit ?? '', from, to, everyMs, series };
        }

        const zones = new Set(request.scope.sites.map((s) => farm.timeZone(s)));
        const options = {
          lang: exportLang(q.lang, request.headers['accept-language']),
          timeZoneOf: (s: string) => farm.timeZone(s),
          headerTimeZone: zones.size === 1 ? [...zones][0] : undefined,
        };
        const scope = request.scope;
        const body = q.every
          ? bucketsTable(
              (async function* () {
                for (const metric of q.metric ? [q.metric] : deviceMetrics(q.device))
                  yield { metric, series: await history(scope, filter, metric, { from, to, everyMs }) };
              })(),
              (device) => farm.device(device),
              options,
            )
          : readingsTable(
              (async function* () {
                for (const f of perSite(scope, filter)) yield* rawPages(deps.store, { ...f, metric: q.metric, from, to }, EXPORT_PAGE);
              })(),
              options,
            );
        const what = [q.device ?? q.zone ?? q.site ?? 'all', q.metric ?? 'all-metrics', new Date(from).toISOString().slice(0, 10)].join('-');
        return sendCsv(reply, `readings-${what}.csv`, body);
      },
    );
  };

  /** Buckets of every metric: those the device declares, else every canonical metric. */
  function deviceMetrics(device: string | undefined): string[] {
    const declared = device ? farm.device(device)?.config.metrics : undefined;
    return declared ? [...declared] : Object.keys(METRICS);
  }
}
