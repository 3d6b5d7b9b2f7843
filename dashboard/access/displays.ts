import type { Logger } from 'pino';
import type { Session, SessionEndReason } from '../sessions.js';
import type { AccessDb } from './db.js';
import { createLastUse } from './last-use.js';
import { newId, newToken, tokenHash } from './tokens.js';

/**
 * Display tokens: one per wall screen, created by an admin, read-only (viewer rights), limited to some sites or
 * not, with an optional end, revocable. The screen's browser holds the token as its session cookie, so a
 * restart of the service or of the screen needs nobody to type a password.
 */
export type TokenState = 'active' | 'expired' | 'revoked';

export interface DisplayToken {
  id: string;
  name: string;
  sites?: string[];
  createdBy: string;
  createdAt: number;
  expiresAt?: number;
  revokedAt?: number;
  revokedBy?: string;
  lastUsedAt?: number;
  uses: number;
  state: TokenState;
}

export interface DisplayTokens {
  create(input: { name: string; sites?: readonly string[]; expiresAt?: number; by: string }): Promise<{ token: string; display: DisplayToken }>;
  list(): DisplayToken[];
  get(id: string): DisplayToken | undefined;
  /** Revokes (idempotent); screens connected with it are disconnected. Undefined when there is no such token. */
  revoke(id: string, by: string): Promise<DisplayToken | undefined>;
  /** The read-only session a valid token stands for; counts a use. */
  session(token: string | undefined): Session | undefined;
  byId(tokenHashId: string): Session | undefined;
  onEnd(listener: (session: Session, reason: SessionEndReason) => void): void;
}

interface Row {
  id: string;
  token_hash: string;
  name: string;
  sites: string | null;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
  last_used_at: number | null;
  uses: number;
}

const COLUMNS = 'id, token_hash, name, sites, created_by, created_at, expires_at, revoked_at, revoked_by, last_used_at, uses';

export function stateOf(row: { revoked_at: number | null; expires_at: number | null }, now: number): TokenState {
  if (row.revoked_at !== null) return 'revoked';
  return row.expires_at !== null && row.expires_at <= now ? 'expired' : 'active';
}

export function createDisplayTokens(deps: { db: AccessDb; logger: Logger; now: () => number }): DisplayTokens {
  const { db, now } = deps;
  const lastUse = createLastUse(deps, 'displays');
  const listeners: ((session: Session, reason: SessionEndReason) => void)[] = [];

  const view = (r: Row): DisplayToken => ({
    id: r.id,
    name: r.name,
    ...(r.sites ? { sites: JSON.parse(r.sites) as string[] } : {}),
    createdBy: r.created_by,
    createdAt: r.created_at,
    ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
    ...(r.revoked_at !== null ? { revokedAt: r.revoked_at, revokedBy: r.revoked_by ?? undefined } : {}),
    ...(r.last_used_at !== null ? { lastUsedAt: r.last_used_at } : {}),
    uses: r.uses,
    state: stateOf(r, now()),
  });
  const sessionOf = (r: Row): Session => ({
    id: r.token_hash,
    kind: 'display',
    user: r.name,
    role: 'viewer',
    ...(r.sites ? { sites: JSON.parse(r.sites) as string[] } : {}),
    createdAt: r.created_at,
    ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
  });
  const byHash = (hash: string) => db.get<Row>(`SELECT ${COLUMNS} FROM displays WHERE token_hash = ?`, [hash]);
  const active = (r: Row | undefined) => (r && stateOf(r, now()) === 'active' ? r : undefined);

  return {
    async create({ name, sites, expiresAt, by }) {
      const token = newToken();
      const row: Row = {
        id: newId(),
        token_hash: tokenHash(token),
        name,
        sites: sites ? JSON.stringify([...sites]) : null,
        created_by: by,
        created_at: now(),
        expires_at: expiresAt ?? null,
        revoked_at: null,
        revoked_by: null,
        last_used_at: null,
        uses: 0,
      };
      await db.write('storing a display token', [
        {
          sql: 'INSERT INTO displays (id, token_hash, name, sites, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          rows: [[row.id, row.token_hash, row.name, row.sites, row.created_by, row.created_at, row.expires_at]],
        },
      ]);
      return { token, display: view(row) };
    },
    list: () => db.all<Row>(`SELECT ${COLUMNS} FROM displays ORDER BY created_at DESC`).map(view),
    get(id) {
      const row = db.get<Row>(`SELECT ${COLUMNS} FROM displays WHERE id = ?`, [id]);
      return row ? view(row) : undefined;
    },
    async revoke(id, by) {
      const row = db.get<Row>(`SELECT ${COLUMNS} FROM displays WHERE id = ?`, [id]);
      if (!row) return undefined;
      if (row.revoked_at === null) {
        const at = now();
        await db.write('revoking a display token', [
          { sql: 'UPDATE displays SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL', rows: [[at, by, id]] },
        ]);
        for (const listener of listeners) listener(sessionOf(row), 'revoked');
        return view({ ...row, revoked_at: at, revoked_by: by });
      }
      return view(row);
    },
    session(token) {
      const row = token ? active(byHash(tokenHash(token))) : undefined;
      if (!row) return undefined;
      lastUse.used(row.id);
      return sessionOf(row);
    },
    byId(hash) {
      const row = active(byHash(hash));
      return row ? sessionOf(row) : undefined;
    },
    onEnd: (listener) => void listeners.push(listener),
  };
}
