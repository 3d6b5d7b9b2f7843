import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestSession } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { PutUserBody, PutUserResponse, UserParams, UsersResponse } from '../schemas.js';
import { doc, errs } from './doc.js';

/**
 * Dashboard users (admin only): list, add or change (role, password), remove. Passwords are never returned.
 * A changed or removed user's other sessions end at once, so a demotion or a new password takes effect now.
 * An admin cannot remove or demote themselves (so the farm is never left without an admin by accident).
 */
export function usersRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    const admin = { config: { access: 'admin' as const } };

    app.get('/api/users', { ...admin, schema: { ...doc('admin', 'users', 'Dashboard users and their roles (never passwords)'), response: { 200: UsersResponse, ...errs('admin') } } }, async () => ({
      users: ctx.users.list(),
    }));

    app.put(
      '/api/users/:name',
      {
        ...admin,
        schema: {
          ...doc('admin', 'users', "Add a user (role and password) or change a user's role and/or password; their other sessions end"),
          params: UserParams,
          body: PutUserBody,
          response: { 200: PutUserResponse, ...errs('admin', 400, 409, 503) },
        },
      },
      async (request) => {
        const me = requestSession(request);
        const { name } = request.params;
        if (name === me.user && request.body.role !== me.role) throw new ApiError('CONFLICT', 'You cannot change your own role: ask another admin.');
        const result = await ctx.users.put(name, request.body);
        const ended = ctx.sessions.endUser(name, 'user-changed', me.token);
        request.log.info({ user: me.user, target: name, role: request.body.role, created: result.created, passwordChanged: Boolean(request.body.password), sessionsEnded: ended }, 'user changed');
        return result;
      },
    );

    app.delete(
      '/api/users/:name',
      {
        ...admin,
        schema: { ...doc('admin', 'users', 'Remove a user; their sessions end at once'), params: UserParams, response: { 200: z.object({ ok: z.literal(true) }), ...errs('admin', 400, 404, 409, 503) } },
      },
      async (request) => {
        const me = requestSession(request);
        const { name } = request.params;
        if (name === me.user) throw new ApiError('CONFLICT', 'You cannot remove yourself: ask another admin.');
        if (!ctx.users.remove(name)) throw new ApiError('NOT_FOUND', `There is no user "${name}". GET /api/users lists them.`);
        ctx.sessions.endUser(name, 'user-changed');
        request.log.info({ user: me.user, target: name }, 'user removed');
        return { ok: true as const };
      },
    );
  };
}
