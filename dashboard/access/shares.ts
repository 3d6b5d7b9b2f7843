import type { Logger } from 'pino';
import type { AccessDb } from './db.js';
import { stateOf, type TokenState } from './displays.js';
import { createLastUse } from './last-use.js';
import { newId, newToken, tokenHash } from './tokens.js';

/**
 * Share links (SPEC "More routes"): one zone, optionally some of its metrics, read-only, for anyone holding the
 * token, until it expires or an operator revokes it. Tokens are random and stored only as hashes; the list says
 * when each link was last used.
 */
export interface ShareLink {
  id: string;
  site: string;
  zone: string;
  /** Absent = every metric of the zone. */
  metrics?: string[];
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  revokedAt?: number;
  revokedBy?: string;
  lastUsedAt?: number;
  uses: number;
  state: TokenState;
}

export interface ShareLinks {
  create(input: { site: string; zone: string; metrics?: readonly string[]; expiresAt: number; by: string }): Promise<{ token: string; share: ShareLink }>;
  list(): ShareLink[];
  get(id: string): ShareLink | undefined;
  /** Revokes (idempotent). Undefined when there is no such link. */
  revoke(id: string, by: string): Promise<ShareLink | undefined>;
  /** The link a token opens, only while it is active; counts a use. */
  open(token: string): ShareLink | undefined;
}

interface Row {
  id: string;
  site: string;
  zone: string;
  metrics: string | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
  last_used_at: number | null;
  uses: number;
}

const COLUMNS = 'id, site, zone, metrics, created_by, created_at, expires_at, revoked_at, revoked_by, last_used_at, uses';

export function createShareLinks(deps: { db: AccessDb; logger: Logger; now: () => number }): ShareLinks {
  const { db, now } = deps;
  const lastUse = createLastUse(deps, 'shares');
  const view = (r: Row): ShareLink => ({
    id: r.id,
    site: r.site,
    zone: r.zone,
    ...(r.metrics ? { metrics: JSON.parse(r.metrics) as string[] } : {}),
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    ...(r.revoked_at !== null ? { revokedAt: r.revoked_at, revokedBy: r.revoked_by ?? undefined } : {}),
    ...(r.last_used_at !== null ? { lastUsedAt: r.last_used_at } : {}),
    uses: r.uses,
    state: stateOf(r, now()),
  });
  const byId = (id: string) => db.get<Row>(`SELECT ${COLUMNS} FROM shares WHERE id = ?`, [id]);

  return {
    async create({ site, zone, metrics, expiresAt, by }) {
      const token = newToken();
      const row: Row = {
        id: newId(),
        site,
        zone,
        metrics: metrics ? JSON.stringify([...metrics]) : null,
        created_by: by,
        created_at: now(),
        expires_at: expiresAt,
        revoked_at: null,
        revoked_by: null,
        last_used_at: null,
        uses: 0,
      };
      await db.write('storing a share link', [
        {
          sql: 'INSERT INTO shares (id, token_hash, site, zone, metrics, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          rows: [[row.id, tokenHash(token), row.site, row.zone, row.metrics, row.created_by, row.created_at, row.expires_at]],
        },
      ]);
      return { token, share: view(row) };
    },
    list: () => db.all<Row>(`SELECT ${COLUMNS} FROM shares ORDER BY created_at DESC`).map(view),
    get(id) {
      const row = byId(id);
      return row ? view(row) : undefined;
    },
    async revoke(id, by) {
      const row = byId(id);
      if (!row) return undefined;
      if (row.revoked_at !== null) return view(row);
      const at = now();
      await db.write('revoking a share link', [
        { sql: 'UPDATE shares SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL', rows: [[at, by, id]] },
      ]);
      return view({ ...row, revoked_at: at, revoked_by: by });
    },
    open(token) {
      const row = db.get<Row>(`SELECT ${COLUMNS} FROM shares WHERE token_hash = ?`, [tokenHash(token)]);
      if (!row || stateOf(row, now()) !== 'active') return undefined;
      lastUse.used(row.id);
      return view(row);
    },
  };
}
