import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { perSite, siteOf } from '../access/site-scope.js';
import type { RouteContext } from '../deps.js';
import { buildDrainage } from '../drainage.js';
import { DeviceFilter, DrainageResponse, LatestResponse, SiteParams, SitesResponse, SiteView } from '../schemas.js';
import { buildSiteViews } from '../site-view.js';
import { doc, errs } from './doc.js';

/** Sites, zones and devices with presence, latest values and actuator state; latest values; the drainage view. */
export function sitesRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { deps } = ctx;

  async function views(sites: readonly string[]) {
    const everySite = deps.config.sites.every((s) => sites.includes(s.id));
    const one = sites.length === 1 ? sites[0] : undefined;
    const latest = everySite ? await deps.store.latest() : (await Promise.all(sites.map((site) => deps.store.latest({ site })))).flat();
    // The first time a device is shown, learn how often it reports from what the store holds (a restart forgets).
    await ctx.intervals.seed(
      deps.farm
        .devices()
        .filter((d) => sites.includes(d.site))
        .map((d) => d.device),
    );
    const all = buildSiteViews(
      {
        config: deps.config,
        farm: deps.farm,
        rules: await deps.rules.rules(),
        presence: deps.ingest.presence(),
        latest,
        actuators: await deps.rules.actuators(),
        activeAlerts: await deps.rules.activeAlerts(),
        headCounts: deps.herd.headCounts(one),
        reportEveryMs: (device) => ctx.intervals.intervalMs(device),
      },
      one,
    );
    return all.filter((s) => sites.includes(s.id));
  }

  return async (app) => {
    app.get(
      '/api/sites',
      {
        config: { site: siteOf.list() },
        schema: {
          ...doc('viewer', 'sites', 'All sites with zones, devices, online state, latest values and actuator state'),
          response: { 200: SitesResponse, ...errs('viewer', 503) },
        },
      },
      async (request) => ({ sites: await views(request.scope.sites) }),
    );

    app.get(
      '/api/sites/:site',
      {
        config: { site: siteOf.site() },
        schema: {
          ...doc('viewer', 'sites', 'One site with zones, devices, online state, latest values and actuator state'),
          params: SiteParams,
          response: { 200: SiteView, ...errs('viewer', 400, 404, 503) },
        },
      },
      async (request) => (await views([request.params.site]))[0],
    );

    app.get(
      '/api/sites/:site/drainage',
      {
        config: { site: siteOf.site() },
        schema: {
          ...doc(
            'viewer',
            'sites',
            "Drainage: each pipe's fill grade, rain gauges' 1 h / 24 h rainfall and warning, pipes at long-term high water in dry weather",
          ),
          params: SiteParams,
          response: { 200: DrainageResponse, ...errs('viewer', 400, 404, 503) },
        },
      },
      async (request) =>
        buildDrainage(
          {
            farm: deps.farm,
            store: deps.store,
            rules: await deps.rules.rules(),
            activeAlerts: await deps.rules.activeAlerts(),
            highWater: ctx.options.highWater,
            liveRain: ctx.liveRain,
          },
          request.params.site,
          ctx.now(),
        ),
    );

    app.get(
      '/api/latest',
      {
        config: { site: siteOf.filters('query') },
        schema: {
          ...doc('viewer', 'readings', 'Latest value of every metric of every device, optionally filtered'),
          querystring: DeviceFilter,
          response: { 200: LatestResponse, ...errs('viewer', 400, 404, 503) },
        },
      },
      async (request) => ({ values: (await Promise.all(perSite(request.scope, request.query).map((q) => deps.store.latest(q)))).flat() }),
    );
  };
}
