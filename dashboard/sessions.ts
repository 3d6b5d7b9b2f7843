import { randomBytes } from 'node:crypto';

/** Who may do what: each role includes the ones before it (SPEC "Access control"). */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export interface Session {
  token: string;
  user: string;
  role: Role;
  createdAt: number;
  expiresAt: number;
}

export type SessionEndReason = 'logout' | 'expired' | 'user-changed';

export interface SessionStore {
  create(user: string, role: Role): Session;
  /** The live session for a token; an expired one is ended on the spot and not returned. */
  get(token: string | undefined): Session | undefined;
  end(token: string, reason?: SessionEndReason): void;
  /** Ends every session of a user (removed, re-roled, new password), except `keepToken`. */
  endUser(user: string, reason: SessionEndReason, keepToken?: string): number;
  /** Called when a session ends, so live connections opened with it can be closed too. */
  onEnd(listener: (session: Session, reason: SessionEndReason) => void): void;
  sweep(): void;
  size(): number;
}

/**
 * Opaque random tokens kept in memory with an absolute lifetime: a stolen token stops working after `ttlMs`,
 * and a restart logs everyone out (acceptable for a farm dashboard; nothing secret is derivable from a token).
 */
export function createSessionStore(options: { ttlMs: number; now?: () => number }): SessionStore {
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Session>();
  const listeners: ((session: Session, reason: SessionEndReason) => void)[] = [];

  function end(token: string, reason: SessionEndReason = 'logout'): void {
    const session = sessions.get(token);
    if (!session) return;
    sessions.delete(token);
    for (const listener of listeners) listener(session, reason);
  }

  return {
    create(user, role) {
      const createdAt = now();
      const session: Session = { token: randomBytes(32).toString('base64url'), user, role, createdAt, expiresAt: createdAt + options.ttlMs };
      sessions.set(session.token, session);
      return session;
    },
    get(token) {
      if (!token) return undefined;
      const session = sessions.get(token);
      if (!session) return undefined;
      if (session.expiresAt <= now()) {
        end(token, 'expired');
        return undefined;
      }
      return session;
    },
    end,
    endUser(user, reason, keepToken) {
      const ended = [...sessions.values()].filter((s) => s.user === user && s.token !== keepToken);
      for (const s of ended) end(s.token, reason);
      return ended.length;
    },
    onEnd: (listener) => void listeners.push(listener),
    sweep() {
      const t = now();
      for (const session of [...sessions.values()]) if (session.expiresAt <= t) end(session.token, 'expired');
    },
    size: () => sessions.size,
  };
}
