import type { Logger } from 'pino';
import type { AccessDb } from './db.js';

/**
 * The audit log (SPEC "Access control"): every change made by a person, with who, when, from which address,
 * what, and the outcome. Kept in the access database (SQLite under DATA_DIR, written durably before the answer
 * goes out), read by admins over GET /api/audit and on the audit page.
 *
 * Routes do not call this directly: a route states its action in `config.audit` and the hook in audit-hook.ts
 * records it with the answer's outcome (see there). `record` is for what happens outside a request.
 */
export const AUDIT_ACTIONS = [
  'login',
  'logout',
  'alert.ack',
  'actuator.command',
  'actuator.mode',
  'rules.replace',
  'user.put',
  'user.remove',
  'share.create',
  'share.revoke',
  'display.create',
  'display.revoke',
  'display.open',
  'animals.import',
  'silence.create',
  'silence.end',
  'channel.test',
  // Next: add the action here, then use it in config.audit.
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** ok: done (2xx/3xx); refused: the request was turned down (4xx: wrong password, no right, invalid, not found); failed: a 5xx. */
export type AuditOutcome = 'ok' | 'refused' | 'failed';

export interface AuditEntry {
  seq: number;
  ts: number;
  /** The user's name; `display:<name>` for a wall display; `(unknown user)` for a login with a name nobody has; `(anonymous)` without a login. */
  actor: string;
  /** The client address (X-Forwarded-For only with TRUST_PROXY). */
  address?: string;
  action: AuditAction;
  site?: string;
  /** What was acted on: a device, alert, user, share link or display token id. */
  target?: string;
  outcome: AuditOutcome;
  /** The HTTP status and, when refused or failed, the error code (INVALID_CREDENTIALS, FORBIDDEN, NOT_FOUND ...). */
  status?: number;
  code?: string;
  /** Action-specific facts: the command sent, the new role and sites, the rules changed ... Never a password or token. */
  detail?: Record<string, unknown>;
}

export type AuditInput = Omit<AuditEntry, 'seq' | 'ts'> & { ts?: number };

export interface AuditQuery {
  from?: number;
  to?: number;
  actor?: string;
  action?: string;
  limit: number;
  /** For a site-limited admin: entries of these sites, and site-less entries of these actors. */
  visible?: { sites: readonly string[]; actors: readonly string[] };
}

export interface AuditLog {
  /** Resolves once the entry is on disk. */
  record(input: AuditInput): Promise<void>;
  /** Newest first. */
  query(q: AuditQuery): AuditEntry[];
}

interface Row {
  seq: number;
  ts: number;
  actor: string;
  address: string | null;
  action: string;
  site: string | null;
  target: string | null;
  outcome: string;
  status: number | null;
  detail: string | null;
}

export function createAuditLog(deps: { db: AccessDb; logger: Logger; now: () => number }): AuditLog {
  const fromRow = (r: Row): AuditEntry => {
    const stored = r.detail ? (JSON.parse(r.detail) as { code?: string; detail?: Record<string, unknown> }) : {};
    return {
      seq: r.seq,
      ts: r.ts,
      actor: r.actor,
      ...(r.address ? { address: r.address } : {}),
      action: r.action as AuditAction,
      ...(r.site ? { site: r.site } : {}),
      ...(r.target ? { target: r.target } : {}),
      outcome: r.outcome as AuditOutcome,
      ...(r.status !== null ? { status: r.status } : {}),
      ...(stored.code ? { code: stored.code } : {}),
      ...(stored.detail ? { detail: stored.detail } : {}),
    };
  };

  return {
    async record(input) {
      const extra = input.code || input.detail ? JSON.stringify({ code: input.code, detail: input.detail }) : null;
      await deps.db.write('writing the audit log', [
        {
          sql: 'INSERT INTO audit (ts, actor, address, action, site, target, outcome, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          rows: [
            [
              input.ts ?? deps.now(),
              input.actor,
              input.address ?? null,
              input.action,
              input.site ?? null,
              input.target ?? null,
              input.outcome,
              input.status ?? null,
              extra,
            ],
          ],
        },
      ]);
    },
    query(q) {
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: q.limit };
      if (q.from !== undefined) {
        where.push('ts >= @from');
        params.from = q.from;
      }
      if (q.to !== undefined) {
        where.push('ts < @to');
        params.to = q.to;
      }
      if (q.actor) {
        where.push('actor = @actor');
        params.actor = q.actor;
      }
      if (q.action) {
        where.push('action = @action');
        params.action = q.action;
      }
      if (q.visible) {
        // json_each: the lists are bound as one JSON parameter each, however long they are.
        where.push('(site IN (SELECT value FROM json_each(@sites)) OR (site IS NULL AND actor IN (SELECT value FROM json_each(@actors))))');
        params.sites = JSON.stringify(q.visible.sites);
        params.actors = JSON.stringify(q.visible.actors);
      }
      const sql = `SELECT seq, ts, actor, address, action, site, target, outcome, status, detail FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC, seq DESC LIMIT @limit`;
      return deps.db.all<Row>(sql, params).map(fromRow);
    },
  };
}
