import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestSession, SESSION_COOKIE, verifyLogin } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { LoginBody, LoginResponse, Me } from '../schemas.js';
import { doc, errs } from './doc.js';

/** Log in (name + password; failed attempts limited per client address), log out, who am I. */
export function sessionRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/login',
      {
        config: { access: 'public' },
        schema: { ...doc('public', 'session', 'Log in: answers a bearer token and sets the farm_session cookie'), body: LoginBody, response: { 200: LoginResponse, ...errs('public', 400, 401, 429) } },
      },
      async (request, reply) => {
        const key = request.ip;
        const waitMs = ctx.loginLimiter.retryAfterMs(key);
        if (waitMs > 0) {
          const seconds = Math.ceil(waitMs / 1000);
          throw new ApiError('TOO_MANY_ATTEMPTS', `Too many failed logins from this address: try again in ${seconds} s.`, undefined, { 'retry-after': String(seconds) });
        }
        const user = await verifyLogin(ctx.users.find, request.body.username, request.body.password);
        if (!user) {
          ctx.loginLimiter.failed(key);
          // An unknown name is not logged: people type their password into the name field.
          request.log.warn({ user: ctx.users.find(request.body.username) ? request.body.username : '(unknown user)', ip: key }, 'failed login');
          throw new ApiError('INVALID_CREDENTIALS', 'Wrong user name or password.');
        }
        ctx.loginLimiter.succeeded(key);
        const session = ctx.sessions.create(user.name, user.role);
        reply.setCookie(SESSION_COOKIE, session.token, {
          httpOnly: true,
          sameSite: 'strict',
          secure: Boolean(ctx.options.https),
          path: '/',
          maxAge: Math.floor(ctx.options.sessionTtlMs / 1000),
        });
        request.log.info({ user: user.name, role: user.role }, 'login');
        return { token: session.token, user: session.user, role: session.role, expiresAt: session.expiresAt };
      },
    );

    app.post(
      '/api/logout',
      { schema: { ...doc('viewer', 'session', 'Log out: ends the session and clears the cookie'), response: { 200: z.object({ ok: z.literal(true) }), ...errs('viewer') } } },
      async (request, reply) => {
        ctx.sessions.end(requestSession(request).token, 'logout');
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return { ok: true as const };
      },
    );

    app.get('/api/me', { schema: { ...doc('viewer', 'session', 'The logged-in user, role and session expiry'), response: { 200: Me, ...errs('viewer') } } }, async (request) => {
      const s = requestSession(request);
      return { user: s.user, role: s.role, expiresAt: s.expiresAt };
    });
  };
}
