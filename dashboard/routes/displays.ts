import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { noteAudit } from '../access/audit-hook.js';
import { NOT_FOUND } from '../access/not-found.js';
import { manages, scopeOf, siteOf } from '../access/site-scope.js';
import { requestSession, SESSION_COOKIE } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { DisplayBody, DisplayCreated, DisplayInfo, DisplaysResponse, IdParams, TokenParams } from '../access/schemas.js';
import { publicBase } from './public-base.js';
import { shareRateLimit } from './share-public.js';
import { doc, errs } from './doc.js';

const DAY_MS = 86_400_000;
/** Browsers keep a cookie at most 400 days (RFC 6265bis); the screen renews it each time it opens its link. */
const COOKIE_MAX_DAYS = 400;

/**
 * Display tokens for wall screens (admin): a long-lived read-only token per screen. Opening
 * GET /display/{token} on the screen stores it as the session cookie and shows the big-screen view; after a
 * restart of the service or of the screen nothing needs typing. Revoking one disconnects that screen at once.
 */
export function displaysRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { config } = ctx.deps;

  return async (app) => {
    app.post(
      '/api/displays',
      {
        config: {
          access: 'admin',
          site: siteOf.resource('display-sites', (request) => {
            const own = scopeOf(request.session, config);
            const outside = (request.body as { sites?: string[] }).sites?.find((s) => !own.allows(s));
            return outside ? { sites: [outside], notFound: NOT_FOUND.site(outside) } : undefined;
          }),
          audit: 'display.create',
        },
        schema: {
          ...doc('admin', 'displays', 'Create a display token for a wall screen: read-only, long-lived, revocable; the token and link are shown once'),
          body: DisplayBody,
          response: { 201: DisplayCreated, ...errs('admin', 400, 404, 503) },
        },
      },
      async (request, reply) => {
        const { name, expiresInDays } = request.body;
        const sites = request.body.sites ?? (request.scope.limited ? [...request.scope.sites] : undefined);
        const expiresAt = expiresInDays ? ctx.now() + expiresInDays * DAY_MS : undefined;
        const { token, display } = await ctx.displays.create({ name, sites, expiresAt, by: requestSession(request).user });
        noteAudit(request, {
          target: display.id,
          site: sites?.length === 1 ? sites[0] : undefined,
          detail: { name, ...(sites ? { sites } : {}), ...(expiresAt ? { expiresAt } : {}) },
        });
        return reply.code(201).send({ id: display.id, token, url: `${publicBase(request, ctx.options.publicUrl)}/display/${token}`, display });
      },
    );

    app.get(
      '/api/displays',
      {
        config: { access: 'admin', site: siteOf.list() },
        schema: {
          ...doc('admin', 'displays', 'Display tokens with their state and last use; never the tokens'),
          response: { 200: DisplaysResponse, ...errs('admin') },
        },
      },
      async (request) => ({ displays: ctx.displays.list().filter((d) => manages(request.scope, d.sites)) }),
    );

    app.delete(
      '/api/displays/:id',
      {
        config: {
          access: 'admin',
          site: siteOf.resource('display', (request) => {
            const { id } = request.params as { id: string };
            const display = ctx.displays.get(id);
            return display ? { sites: display.sites ?? 'all', notFound: NOT_FOUND.display(id) } : undefined;
          }),
          audit: 'display.revoke',
        },
        schema: {
          ...doc('admin', 'displays', 'Revoke a display token: the screen is disconnected and shows the login'),
          params: IdParams,
          response: { 200: DisplayInfo, ...errs('admin', 400, 404, 503) },
        },
      },
      async (request) => {
        const display = await ctx.displays.revoke(request.params.id, requestSession(request).user);
        if (!display) throw new ApiError('NOT_FOUND', NOT_FOUND.display(request.params.id));
        noteAudit(request, { detail: { name: display.name } });
        return display;
      },
    );

    app.get(
      '/display/:token',
      {
        config: {
          access: 'public',
          site: siteOf.none('opens a display token; the screen then sees what the token allows'),
          audit: 'display.open',
          rateLimit: shareRateLimit(ctx),
        },
        schema: {
          ...doc('public', 'displays', 'Open on the wall screen: keeps the display token as its session cookie and goes to the big-screen view'),
          params: TokenParams,
          response: { 303: z.null(), ...errs('public', 404, 429) },
        },
      },
      async (request, reply) => {
        const session = ctx.displays.session(request.params.token);
        if (!session) throw new ApiError('NOT_FOUND', 'This display link does not exist, has expired or was revoked: ask an administrator for a new one.');
        noteAudit(request, { actor: `display:${session.user}`, target: undefined, detail: { name: session.user } });
        const maxAgeDays = session.expiresAt ? Math.min(COOKIE_MAX_DAYS, (session.expiresAt - ctx.now()) / DAY_MS) : COOKIE_MAX_DAYS;
        reply.setCookie(SESSION_COOKIE, request.params.token, {
          httpOnly: true,
          sameSite: 'strict',
          secure: Boolean(ctx.options.https),
          path: '/',
          maxAge: Math.floor(maxAgeDays * 86_400),
        });
        return reply.code(303).header('location', '/?big').send(null);
      },
    );
  };
}
