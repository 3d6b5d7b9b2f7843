import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { noteAudit } from '../access/audit-hook.js';
import { NOT_FOUND } from '../access/not-found.js';
import { manages, scopeOf, siteOf } from '../access/site-scope.js';
import { requestSession } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { PutUserBody, PutUserResponse, UserParams, UsersResponse } from '../schemas.js';
import { doc, errs } from './doc.js';

/**
 * Dashboard users (admin only): list, add or change (role, password, sites), remove. Passwords are never returned.
 * A changed or removed user's other sessions end at once, so a demotion or a new password takes effect now.
 * An admin cannot remove or demote themselves (so the farm is never left without an admin by accident).
 * A site-limited admin manages only users limited to some of their own sites, and gives new users their own sites.
 */
export function usersRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { config } = ctx.deps;

  /** The user named in the path, and the sites a PUT would give: one outside the admin's answers as a user or site that does not exist. */
  const claim = (request: FastifyRequest) => {
    const own = scopeOf(request.session, config);
    if (!own.limited) return undefined;
    const { name } = request.params as { name: string };
    const existing = ctx.users.find(name);
    if (existing && !manages(own, existing.sites)) return { sites: existing.sites ?? ('all' as const), notFound: NOT_FOUND.user(name) };
    const wanted = (request.body as { sites?: string[] | null } | undefined)?.sites;
    const outside = wanted?.find((s) => !own.allows(s));
    return outside ? { sites: [outside], notFound: NOT_FOUND.site(outside) } : undefined;
  };

  return async (app) => {
    app.get(
      '/api/users',
      {
        config: { access: 'admin', site: siteOf.list() },
        schema: { ...doc('admin', 'users', 'Dashboard users, their roles and sites (never passwords)'), response: { 200: UsersResponse, ...errs('admin') } },
      },
      async (request) => ({ users: ctx.users.list().filter((u) => manages(request.scope, u.sites)) }),
    );

    app.put(
      '/api/users/:name',
      {
        config: { access: 'admin', site: siteOf.resource('user', claim), audit: 'user.put' },
        schema: {
          ...doc('admin', 'users', "Add a user (role and password; sites optional) or change a user's role, password and/or sites; their other sessions end"),
          params: UserParams,
          body: PutUserBody,
          response: { 200: PutUserResponse, ...errs('admin', 400, 403, 404, 409, 503) },
        },
      },
      async (request) => {
        const me = requestSession(request);
        const { name } = request.params;
        const { scope } = request;
        const change = { ...request.body };
        noteAudit(request, {
          detail: { role: change.role, ...(change.sites !== undefined ? { sites: change.sites } : {}), passwordChanged: Boolean(change.password) },
        });
        if (name === me.user && change.role !== me.role) throw new ApiError('CONFLICT', 'You cannot change your own role: ask another admin.');
        if (name === me.user && change.sites !== undefined) throw new ApiError('CONFLICT', 'You cannot change your own sites: ask another admin.');
        const unknown = change.sites?.find((s) => !config.sites.some((c) => c.id === s));
        if (unknown) throw new ApiError('NOT_FOUND', NOT_FOUND.site(unknown));
        if (scope.limited) {
          if (change.sites === null) throw new ApiError('FORBIDDEN', `You manage the sites ${scope.sites.join(', ')}: give the user some of them in "sites".`);
          // A new user of a limited admin sees the admin's sites unless told otherwise.
          if (change.sites === undefined && !ctx.users.find(name)) change.sites = [...scope.sites];
        }
        const result = await ctx.users.put(name, change);
        const ended = await ctx.sessions.endUser(name, 'user-changed', me.id);
        noteAudit(request, { detail: { created: result.created, sessionsEnded: ended } });
        request.log.info(
          {
            user: me.user,
            target: name,
            role: change.role,
            sites: change.sites,
            created: result.created,
            passwordChanged: Boolean(change.password),
            sessionsEnded: ended,
          },
          'user changed',
        );
        return result;
      },
    );

    app.delete(
      '/api/users/:name',
      {
        config: { access: 'admin', site: siteOf.resource('user', claim), audit: 'user.remove' },
        schema: {
          ...doc('admin', 'users', 'Remove a user; their sessions end at once'),
          params: UserParams,
          response: { 200: z.object({ ok: z.literal(true) }), ...errs('admin', 400, 404, 409, 503) },
        },
      },
      async (request) => {
        const me = requestSession(request);
        const { name } = request.params;
        if (name === me.user) throw new ApiError('CONFLICT', 'You cannot remove yourself: ask another admin.');
        if (!ctx.users.remove(name)) throw new ApiError('NOT_FOUND', NOT_FOUND.user(name));
        const ended = await ctx.sessions.endUser(name, 'user-changed');
        noteAudit(request, { detail: { sessionsEnded: ended } });
        request.log.info({ user: me.user, target: name }, 'user removed');
        return { ok: true as const };
      },
    );
  };
}
