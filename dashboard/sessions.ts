import { createHash } from 'node:crypto';
import type { UserT } from '../core/config/schema.js';
import type { AccessDb } from './access/db.js';
import { newToken, tokenHash } from './access/tokens.js';

/** Who may do what: each role includes the ones before it (SPEC "Access control"). */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Whoever holds a token: a person's login, or a wall display's long-lived read-only token. */
export interface Session {
  /** SHA-256 of the token: the key at rest and in memory. The token itself is never stored. */
  id: string;
  kind: 'login' | 'display';
  /** The user's name, or the display's name. */
  user: string;
  role: Role;
  /** The sites this session may see; absent = every site. */
  sites?: readonly string[];
  createdAt: number;
  /** Absent for a display token without an end. */
  expiresAt?: number;
}

export type SessionEndReason = 'logout' | 'expired' | 'user-changed' | 'revoked';

export interface SessionStore {
  /** A new login session; resolves once it is stored (durable), with the token to hand to the client. */
  create(user: UserT): Promise<{ token: string; session: Session }>;
  /** The live session for a token; an expired one, or one whose user changed or was removed, is ended and not returned. */
  get(token: string | undefined): Session | undefined;
  /** The same by id (a socket re-checking the session it was opened with). */
  byId(id: string): Session | undefined;
  end(id: string, reason?: SessionEndReason): Promise<void>;
  /** Ends every session of a user (removed, re-roled, new password, other sites), except `keepId`. */
  endUser(user: string, reason: SessionEndReason, keepId?: string): Promise<number>;
  /** Called when a session ends, so live connections opened with it can be closed too. */
  onEnd(listener: (session: Session, reason: SessionEndReason) => void): void;
  sweep(): Promise<void>;
  size(): number;
}

/**
 * What a session was granted at login: role, sites and password (as hashes). When the user differs now (an
 * admin changed them over the API, or the farm file was edited before a restart), the session ends.
 */
export function userStamp(user: UserT): string {
  return createHash('sha256')
    .update(JSON.stringify([user.role, user.sites ?? null, user.passwordHash ?? user.password ?? '']))
    .digest('base64url');
}

interface Row {
  id: string;
  user: string;
  stamp: string;
  created_at: number;
  expires_at: number;
}

/**
 * Login sessions with an absolute lifetime (`ttlMs`), kept in the access database so they survive a restart
 * of the service (a wall display does not drop to the login form after an update). Random tokens, stored as
 * SHA-256 hashes; logout, expiry and a change to the user end them.
 */
export function createSessionStore(
  deps: { db: AccessDb; findUser: (name: string) => UserT | undefined },
  options: { ttlMs: number; now?: () => number },
): SessionStore {
  const now = options.now ?? Date.now;
  const { db } = deps;
  const listeners: ((session: Session, reason: SessionEndReason) => void)[] = [];
  /** Ended here but maybe not yet deleted on disk: never valid again. */
  const ended = new Set<string>();

  function fromRow(row: Row): Session | undefined {
    const user = deps.findUser(row.user);
    if (!user || userStamp(user) !== row.stamp) return undefined;
    return { id: row.id, kind: 'login', user: user.name, role: user.role, sites: user.sites, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  function lookup(id: string): Session | undefined {
    if (ended.has(id)) return undefined;
    const row = db.get<Row>('SELECT id, user, stamp, created_at, expires_at FROM sessions WHERE id = ?', [id]);
    if (!row) return undefined;
    if (row.expires_at <= now()) {
      void endRow(row, 'expired');
      return undefined;
    }
    const session = fromRow(row);
    if (!session) void endRow(row, 'user-changed');
    return session;
  }

  async function endRow(row: Row, reason: SessionEndReason): Promise<void> {
    if (ended.has(row.id)) return;
    ended.add(row.id);
    const user = deps.findUser(row.user);
    const session: Session = { id: row.id, kind: 'login', user: row.user, role: user?.role ?? 'viewer', createdAt: row.created_at, expiresAt: row.expires_at };
    for (const listener of listeners) listener(session, reason);
    try {
      await db.write('ending a session', [{ sql: 'DELETE FROM sessions WHERE id = ?', rows: [[row.id]] }]);
    } finally {
      ended.delete(row.id);
    }
  }

  const rowsOf = (sql: string, params: unknown[]) => db.all<Row>(`SELECT id, user, stamp, created_at, expires_at FROM sessions ${sql}`, params);

  return {
    async create(user) {
      const token = newToken();
      const createdAt = now();
      const row: Row = { id: tokenHash(token), user: user.name, stamp: userStamp(user), created_at: createdAt, expires_at: createdAt + options.ttlMs };
      await db.write('storing a session', [
        {
          sql: 'INSERT INTO sessions (id, user, stamp, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
          rows: [[row.id, row.user, row.stamp, row.created_at, row.expires_at]],
        },
      ]);
      return { token, session: fromRow(row)! };
    },
    get: (token) => (token ? lookup(tokenHash(token)) : undefined),
    byId: lookup,
    async end(id, reason = 'logout') {
      const row = rowsOf('WHERE id = ?', [id])[0];
      if (row) await endRow(row, reason);
    },
    async endUser(user, reason, keepId) {
      const rows = rowsOf('WHERE user = ?', [user]).filter((r) => r.id !== keepId);
      await Promise.all(rows.map((r) => endRow(r, reason)));
      return rows.length;
    },
    onEnd: (listener) => void listeners.push(listener),
    async sweep() {
      for (const row of rowsOf('WHERE expires_at <= ?', [now()])) await endRow(row, 'expired');
    },
    size: () => db.get<{ n: number }>('SELECT count(*) AS n FROM sessions WHERE expires_at > ?', [now()])?.n ?? 0,
  };
}
