import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RouteContext } from '../deps.js';
import { buildDrainage } from '../drainage.js';
import { DeviceFilter, DrainageResponse, LatestResponse, SiteParams, SitesResponse, SiteView } from '../schemas.js';
import { buildSiteViews } from '../site-view.js';
import { doc, errs } from './doc.js';
import { checkDeviceFilter, requireSite } from './lookup.js';

/** Sites, zones and devices with presence, latest values and actuator state; latest values; the drainage view. */
export function sitesRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { deps } = ctx;

  async function views(site?: string) {
    const latest = await deps.store.latest(site ? { site } : undefined);
    return buildSiteViews(
      { config: deps.config, farm: deps.farm, rules: await deps.rules.rules(), presence: deps.ingest.presence(), latest, actuators: await deps.rules.actuators(), activeAlerts: await deps.rules.activeAlerts(), headCounts: deps.herd.headCounts(site) },
      site,
    );
  }

  return async (app) => {
    app.get('/api/sites', { schema: { ...doc('viewer', 'sites', 'All sites with zones, devices, online state, latest values and actuator state'), response: { 200: SitesResponse, ...errs('viewer', 503) } } }, async () => ({
      sites: await views(),
    }));

    app.get(
      '/api/sites/:site',
      { schema: { ...doc('viewer', 'sites', 'One site with zones, devices, online state, latest values and actuator state'), params: SiteParams, response: { 200: SiteView, ...errs('viewer', 400, 404, 503) } } },
      async (request) => {
        requireSite(deps.config, request.params.site);
        return (await views(request.params.site))[0];
      },
    );

    app.get(
      '/api/sites/:site/drainage',
      {
        schema: {
          ...doc('viewer', 'sites', "Drainage: each pipe's fill grade, rain gauges' 1 h / 24 h rainfall and warning, pipes at long-term high water in dry weather"),
          params: SiteParams,
          response: { 200: DrainageResponse, ...errs('viewer', 400, 404, 503) },
        },
      },
      async (request) => {
        requireSite(deps.config, request.params.site);
        return buildDrainage({ farm: deps.farm, store: deps.store, rules: await deps.rules.rules(), activeAlerts: await deps.rules.activeAlerts(), highWater: ctx.options.highWater }, request.params.site, ctx.now());
      },
    );

    app.get(
      '/api/latest',
      { schema: { ...doc('viewer', 'readings', 'Latest value of every metric of every device, optionally filtered'), querystring: DeviceFilter, response: { 200: LatestResponse, ...errs('viewer', 400, 404, 503) } } },
      async (request) => {
        checkDeviceFilter(deps.config, deps.farm, request.query);
        return { values: await deps.store.latest(request.query) };
      },
    );
  };
}
