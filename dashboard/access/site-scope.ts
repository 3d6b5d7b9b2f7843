import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import type { FarmConfigT } from '../../core/config/schema.js';
import type { FarmIndex } from '../../core/farm-index.js';
import type { AlertEvent } from '../../core/domain.js';
import { ApiError } from '../errors.js';
import type { Session } from '../sessions.js';
import { noteAudit } from './audit-hook.js';
import { NOT_FOUND } from './not-found.js';

/**
 * Site-limited users (SPEC "Access control": `sites: [...]` on a user or a display token). Outside their sites
 * every route answers as if the site did not exist (404, the same message as for an id that does not exist)
 * and lists leave those sites out.
 *
 * So that no route can forget it, every route declares in `config.site` how it finds the site it touches;
 * registering a route without a declaration fails (installSiteScope's onRoute hook). One preHandler resolves
 * the declaration after validation and before the handler, answers the 404, and hands the handler
 * `request.scope`: the sites it may read. test/dashboard/site-scope.test.ts walks every registered route with a
 * user of another site.
 */
type Awaitable<T> = T | Promise<T>;

/** What a `resource` lookup found: the sites of the thing the request names ('all' = every site), and the 404 to give. */
export type ResourceClaim = { sites: readonly string[] | 'all'; notFound: string };

export type SiteOf =
  /** Touches no site's data (log in, health, the page, the API documentation): say why. */
  | { by: 'none'; why: string }
  /** Answers a list: the handler keeps what request.scope allows. */
  | { by: 'list' }
  /** A site id in the path. */
  | { by: 'site'; param: string }
  /** A device id in the path: the device's site. */
  | { by: 'device'; param: string }
  /** An active alert's id in the path: the alert's site. */
  | { by: 'alert'; param: string }
  /** `site`, `zone`, `device` filters (those in `keys`): each must exist within the user's sites; request.scope.sites are the sites to read. */
  | { by: 'filters'; in: 'query' | 'body'; keys: readonly FilterKey[] }
  /**
   * Anything else that belongs to sites (a share link, a display token, a user, rules in a body): `claim` says
   * which sites, or undefined when there is no such thing (the handler then answers its own 404). `what`
   * names the kind of thing for the route walk test.
   */
  | { by: 'resource'; what: string; claim(request: FastifyRequest): Awaitable<ResourceClaim | undefined> };

export type FilterKey = 'site' | 'zone' | 'device';

export const siteOf = {
  none: (why: string): SiteOf => ({ by: 'none', why }),
  list: (): SiteOf => ({ by: 'list' }),
  site: (param = 'site'): SiteOf => ({ by: 'site', param }),
  device: (param = 'id'): SiteOf => ({ by: 'device', param }),
  alert: (param = 'id'): SiteOf => ({ by: 'alert', param }),
  filters: (where: 'query' | 'body' = 'query', keys: readonly FilterKey[] = ['site', 'zone', 'device']): SiteOf => ({ by: 'filters', in: where, keys }),
  resource: (what: string, claim: (request: FastifyRequest) => Awaitable<ResourceClaim | undefined>): SiteOf => ({ by: 'resource', what, claim }),
};

/** What a handler may read. */
export interface SiteScope {
  /** false: every site. */
  readonly limited: boolean;
  allows(site: string): boolean;
  /** The sites this request may read: those its filters name (cut to the user's), else all the user's. */
  readonly sites: readonly string[];
  /** The sites the request is about (its path, filters or resource), e.g. for the audit log. */
  readonly named: readonly string[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    site?: SiteOf;
  }
  interface FastifyRequest {
    scope: SiteScope;
  }
}

export interface SiteScopeDeps {
  config: Pick<FarmConfigT, 'sites'>;
  farm: Pick<FarmIndex, 'device' | 'zones'>;
  activeAlerts(): Awaitable<readonly Pick<AlertEvent, 'id' | 'site'>[]>;
}

/** The scope of a session (or of nobody, on a public route): its own sites, or every site. */
export function scopeOf(session: Pick<Session, 'sites'> | null | undefined, config: Pick<FarmConfigT, 'sites'>, named: readonly string[] = []): SiteScope {
  const all = config.sites.map((s) => s.id);
  const own = session?.sites;
  const limited = Boolean(own);
  const allowed = new Set(own ?? all);
  const sites = all.filter((s) => allowed.has(s));
  return { limited, allows: (site) => allowed.has(site) && all.includes(site), sites, named };
}

/**
 * Whether something limited to `sites` (absent = every site: a user, a display token) lies within the scope:
 * what a site-limited admin may see and manage.
 */
export function manages(scope: Pick<SiteScope, 'limited' | 'allows'>, sites: readonly string[] | undefined): boolean {
  return !scope.limited || (sites !== undefined && sites.every((s) => scope.allows(s)));
}

/** Store queries for what a scope may read: the query as is for every site, or one per allowed site. */
export function perSite<Q extends { site?: string }>(scope: SiteScope, q: Q): Q[] {
  if (q.site || !scope.limited) return [q];
  return scope.sites.map((site) => ({ ...q, site }));
}

function narrow(base: SiteScope, sites: readonly string[], named: readonly string[]): SiteScope {
  return { ...base, sites, named };
}

/**
 * Resolves a declaration for one request: throws the 404 of a thing outside the user's sites. The audit log still
 * learns which site such a refused attempt aimed at, so that site's admins see it and other sites' do not.
 */
export async function resolveScope(declared: SiteOf, request: FastifyRequest, deps: SiteScopeDeps): Promise<SiteScope> {
  const base = scopeOf(request.session, deps.config);
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  const refuse = (message: string, site?: string): never => {
    if (site) noteAudit(request, { site });
    throw new ApiError('NOT_FOUND', message);
  };
  switch (declared.by) {
    case 'none':
    case 'list':
      return base;
    case 'site': {
      const site = params[declared.param] ?? '';
      if (!base.allows(site)) refuse(NOT_FOUND.site(site), site);
      return narrow(base, [site], [site]);
    }
    case 'device': {
      const id = params[declared.param] ?? '';
      const device = deps.farm.device(id);
      if (!device || !base.allows(device.site)) return refuse(NOT_FOUND.device(id), device?.site);
      return narrow(base, [device.site], [device.site]);
    }
    case 'alert': {
      const id = params[declared.param] ?? '';
      const alert = (await deps.activeAlerts()).find((a) => a.id === id);
      if (!alert || !base.allows(alert.site)) return refuse(NOT_FOUND.alert(id), alert?.site);
      return narrow(base, [alert.site], [alert.site]);
    }
    case 'filters': {
      const given = ((declared.in === 'query' ? request.query : request.body) ?? {}) as Partial<Record<FilterKey, string>>;
      const f = Object.fromEntries(declared.keys.map((k) => [k, given[k]])) as Partial<Record<FilterKey, string>>;
      if (f.site && !base.allows(f.site)) refuse(NOT_FOUND.site(f.site), f.site);
      let sites = f.site ? [f.site] : base.sites;
      if (f.zone) {
        const zone = f.zone;
        sites = [
          ...new Set(
            deps.farm
              .zones()
              .filter((z) => z.zone === zone && sites.includes(z.site))
              .map((z) => z.site),
          ),
        ];
        if (sites.length === 0) refuse(NOT_FOUND.zone(zone, f.site), f.site);
      }
      if (f.device) {
        const device = deps.farm.device(f.device);
        if (!device || !base.allows(device.site)) return refuse(NOT_FOUND.device(f.device), device?.site);
        sites = [device.site];
      }
      return narrow(base, sites, f.site || f.zone || f.device ? sites : []);
    }
    case 'resource': {
      const claim = await declared.claim(request);
      if (!claim) return base;
      if (claim.sites === 'all' ? base.limited : claim.sites.some((s) => !base.allows(s)))
        refuse(claim.notFound, claim.sites === 'all' ? undefined : claim.sites[0]);
      return narrow(base, claim.sites === 'all' ? base.sites : claim.sites, claim.sites === 'all' ? [] : claim.sites);
    }
  }
}

export class RouteDeclarationError extends Error {
  constructor(method: string | string[], url: string) {
    super(
      `${[method].flat().join(',')} ${url} does not say how it finds its site: add config.site to the route (siteOf.site / device / alert / filters / list / resource, or siteOf.none('why') for a route without site data; see dashboard/access/site-scope.ts)`,
    );
    this.name = 'RouteDeclarationError';
  }
}

/** A registered route and what it declared, as fastify registered it (HEAD routes included). */
export interface RouteEntry {
  method: string;
  url: string;
  config: FastifyContextConfig;
}

/**
 * Every route must declare `config.site`; routes a plugin registers under `exempt` prefixes (the API
 * documentation) get `siteOf.none` with the given reason. Answers the table of registered routes.
 */
export function installSiteScope(app: FastifyInstance, deps: SiteScopeDeps, exempt: { prefix: string; why: string }[] = []): RouteEntry[] {
  const table: RouteEntry[] = [];
  app.decorateRequest('scope', null as unknown as SiteScope);
  app.addHook('onRoute', (route) => {
    if (!route.config?.site) {
      const exemption = exempt.find((e) => route.url.startsWith(e.prefix));
      if (!exemption) throw new RouteDeclarationError(route.method, route.url);
      route.config = { ...route.config, site: siteOf.none(exemption.why) };
    }
    for (const method of [route.method].flat()) table.push({ method, url: route.url, config: route.config });
  });
  app.addHook('preHandler', async (request) => {
    request.scope = await resolveScope(request.routeOptions.config.site ?? siteOf.list(), request, deps);
  });
  return table;
}
