import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { siteOf } from '../access/site-scope.js';
import type { ShareLink } from '../access/shares.js';
import { zoneSensorMetrics } from '../access/zone-metrics.js';
import { METRICS } from '../../core/metrics-catalog.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { SharedZone, TokenParams } from '../access/schemas.js';
import { doc, errs } from './doc.js';

const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * 24 * HOUR_MS;

export const SHARE_GONE = 'This share link does not exist, has expired or was revoked: ask whoever shared it for a new one.';

/** How often one client address may call the share page and its API: enough for a phone refreshing, not for guessing tokens. */
export function shareRateLimit(ctx: Pick<RouteContext, 'options'>) {
  return { max: ctx.options.shareRateLimit.max, timeWindow: ctx.options.shareRateLimit.timeWindowMs };
}

/**
 * What a share link shows, without a login: the zone's name, the latest values of the shared metrics and their
 * hourly history for 7 days. Nothing else answers to a share token (it is not a session).
 */
export function sharePublicRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { deps } = ctx;

  async function sharedZone(share: ShareLink) {
    const site = deps.config.sites.find((s) => s.id === share.site)!;
    const zone = deps.farm.zone(share.site, share.zone)!;
    const wanted = (m: string) => !share.metrics || share.metrics.includes(m);
    const sensors = zoneSensorMetrics(zone).map((s) => ({ ...s, metrics: s.metrics.filter(wanted) }));
    const latest = await deps.store.latest({ site: share.site, zone: share.zone });
    const values = sensors.flatMap((s) =>
      s.metrics.flatMap((metric) => {
        const v = latest.find((l) => l.device === s.device && l.metric === metric);
        return v ? [{ device: s.device, name: s.name, metric, unit: METRICS[metric]?.unit ?? '', value: v.value, ts: v.ts }] : [];
      }),
    );
    const to = Math.ceil(ctx.now() / HOUR_MS) * HOUR_MS;
    const from = to - WEEK_MS;
    const history = (
      await Promise.all(
        sensors.flatMap((s) =>
          s.metrics.map(async (metric) => {
            const [series] = await deps.store.history({
              site: share.site,
              zone: share.zone,
              device: s.device,
              metric,
              from,
              to,
              everyMs: HOUR_MS,
              timeZone: deps.farm.timeZone(share.site),
            });
            return series && series.buckets.length > 0
              ? [{ device: s.device, name: s.name, metric, unit: METRICS[metric]?.unit ?? '', buckets: series.buckets }]
              : [];
          }),
        ),
      )
    ).flat();
    const zoneConfig = site.zones.find((z) => z.id === share.zone)!;
    return {
      site: { id: site.id, name: site.name, timeZone: deps.farm.timeZone(site.id) },
      zone: { id: zone.zone, name: zoneConfig.name, kind: zone.kind },
      values,
      history,
      from,
      to,
      everyMs: HOUR_MS,
      expiresAt: share.expiresAt,
    };
  }

  return async (app) => {
    app.get(
      '/api/share/:token',
      {
        config: { access: 'public', site: siteOf.none('a share token reaches its own zone and nothing else'), rateLimit: shareRateLimit(ctx) },
        schema: {
          ...doc(
            'public',
            'shares',
            "A shared zone without login: its name, the shared metrics' latest values and 7 days of hourly history. 404 when the link is unknown, expired or revoked",
          ),
          params: TokenParams,
          response: { 200: SharedZone, ...errs('public', 400, 404, 429, 503) },
        },
      },
      async (request, reply) => {
        const share = ctx.shares.open(request.params.token);
        if (!share) throw new ApiError('NOT_FOUND', SHARE_GONE);
        reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex');
        return sharedZone(share);
      },
    );
  };
}
