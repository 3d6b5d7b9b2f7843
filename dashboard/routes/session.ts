import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestSession, SESSION_COOKIE, verifyLogin } from '../auth.js';
import { noteAudit } from '../access/audit-hook.js';
import { siteOf } from '../access/site-scope.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { LoginBody, LoginResponse, Me } from '../schemas.js';
import type { Session } from '../sessions.js';
import { doc, errs } from './doc.js';

export const meOf = (s: Session) => ({
  user: s.user,
  role: s.role,
  kind: s.kind,
  ...(s.expiresAt !== undefined ? { expiresAt: s.expiresAt } : {}),
  ...(s.sites ? { sites: [...s.sites] } : {}),
});

/** Log in (name + password; failed attempts limited per client address), log out, who am I. */
export function sessionRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const noSite = siteOf.none('the session itself, no site data');
  return async (app) => {
    app.post(
      '/api/login',
      {
        config: { access: 'public', site: noSite, audit: 'login' },
        schema: {
          ...doc('public', 'session', 'Log in: answers a bearer token and sets the farm_session cookie'),
          body: LoginBody,
          response: { 200: LoginResponse, ...errs('public', 400, 401, 429) },
        },
      },
      async (request, reply) => {
        const key = request.ip;
        // An unknown name is neither logged nor audited as typed: people type their password into the name field.
        const known = ctx.users.find(request.body.username) ? request.body.username : '(unknown user)';
        noteAudit(request, { actor: known });
        const waitMs = ctx.loginLimiter.retryAfterMs(key);
        if (waitMs > 0) {
          const seconds = Math.ceil(waitMs / 1000);
          throw new ApiError('TOO_MANY_ATTEMPTS', `Too many failed logins from this address: try again in ${seconds} s.`, undefined, {
            'retry-after': String(seconds),
          });
        }
        const user = await verifyLogin(ctx.users.find, request.body.username, request.body.password);
        if (!user) {
          ctx.loginLimiter.failed(key);
          request.log.warn({ user: known, ip: key }, 'failed login');
          throw new ApiError('INVALID_CREDENTIALS', 'Wrong user name or password.');
        }
        ctx.loginLimiter.succeeded(key);
        const { token, session } = await ctx.sessions.create(user);
        reply.setCookie(SESSION_COOKIE, token, {
          httpOnly: true,
          sameSite: 'strict',
          secure: Boolean(ctx.options.https),
          path: '/',
          maxAge: Math.floor(ctx.options.sessionTtlMs / 1000),
        });
        request.log.info({ user: user.name, role: user.role }, 'login');
        return { token, ...meOf(session) };
      },
    );

    app.post(
      '/api/logout',
      {
        config: { site: noSite, audit: 'logout' },
        schema: {
          ...doc('viewer', 'session', 'Log out: ends the session and clears the cookie (a wall display only forgets its cookie; an admin revokes its token)'),
          response: { 200: z.object({ ok: z.literal(true) }), ...errs('viewer') },
        },
      },
      async (request, reply) => {
        const session = requestSession(request);
        if (session.kind === 'login') await ctx.sessions.end(session.id, 'logout');
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return { ok: true as const };
      },
    );

    app.get(
      '/api/me',
      {
        config: { site: noSite },
        schema: { ...doc('viewer', 'session', 'The logged-in user (or display), role, sites and session expiry'), response: { 200: Me, ...errs('viewer') } },
      },
      async (request) => meOf(requestSession(request)),
    );
  };
}
