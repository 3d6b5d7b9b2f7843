import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { UserT } from '../core/config/schema.js';
import { checkSecret, type StoredSecret } from '../core/secrets.js';
import { ApiError } from './errors.js';
import type { Credentials } from './access/credentials.js';
import { roleAllows, type Role, type Session } from './sessions.js';

/**
 * Who is calling and whether they may: one onRequest hook for every route. A route states what it needs in
 * `config.access` ('public' | 'viewer' | 'operator' | 'admin'); a route that says nothing needs a login,
 * so a forgotten declaration fails closed. Unknown URLs (404) need a login too, so they reveal nothing.
 */
export type Access = Role | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    session: Session | null;
  }
}

export const SESSION_COOKIE = 'farm_session';

/** The token a client presents: `Authorization: Bearer <token>` wins over the session cookie. */
export function presentedToken(authorization: string | undefined, cookies: Record<string, string | undefined> | undefined): string | undefined {
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  return bearer ?? cookies?.[SESSION_COOKIE] ?? undefined;
}

export function requestSession(request: FastifyRequest): Session {
  if (!request.session) throw new ApiError('UNAUTHENTICATED');
  return request.session;
}

export function installAuth(app: FastifyInstance, credentials: Pick<Credentials, 'resolve'>): void {
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (request) => {
    const access: Access = request.routeOptions.config?.access ?? 'viewer';
    request.session = credentials.resolve(presentedToken(request.headers.authorization, request.cookies)) ?? null;
    if (access === 'public') return;
    if (!request.session) throw new ApiError('UNAUTHENTICATED');
    if (!roleAllows(request.session.role, access))
      throw new ApiError('FORBIDDEN', `This needs the ${access} role and you are logged in as ${request.session.role}. Ask an administrator if you need it.`);
  });
}

/**
 * Checks a user name and password against the users (farm file and API changes). A refusal costs the same scrypt work
 * whether the name is unknown, has a plain development `password` or a `passwordHash` (core/secrets.ts checkSecret),
 * so timing does not reveal names.
 */
export async function verifyLogin(findUser: (name: string) => UserT | undefined, username: string, password: string): Promise<UserT | undefined> {
  const user = findUser(username);
  const stored: StoredSecret = user?.passwordHash
    ? { kind: 'hash', hash: user.passwordHash }
    : user?.password !== undefined
      ? { kind: 'plain', secret: user.password }
      : { kind: 'none' };
  return (await checkSecret(password, stored)) ? user : undefined;
}
