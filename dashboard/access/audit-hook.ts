import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditAction, AuditLog, AuditOutcome } from './audit.js';

/**
 * How routes write the audit log. A route that changes something states its action in `config.audit`
 * (`'share.create'`), or `{ skip: 'why' }` when it changes nothing (a dry run); registering a POST, PUT, PATCH
 * or DELETE route without it fails, like a route without `config.site`. The onSend hook then records every
 * answer of that route, refused and failed ones included, before the answer leaves (so an answered change is
 * in the log): who (the session's user, a display, or what the handler noted), the client address, the site
 * (from the route's site declaration), the target (the path's `id` / `name`), the outcome with the HTTP status
 * and error code, and what the handler added with `noteAudit(request, { detail: {...} })`.
 */
export interface AuditNote {
  /** Who, when it is not the session's user (a login names the user it tried). */
  actor?: string;
  site?: string;
  target?: string;
  detail?: Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    audit?: AuditAction | { skip: string };
  }
  interface FastifyRequest {
    auditNote: AuditNote | null;
  }
}

/** Adds facts to this request's audit entry (merged with what was noted before). */
export function noteAudit(request: FastifyRequest, note: AuditNote): void {
  const before = request.auditNote ?? {};
  request.auditNote = { ...before, ...note, ...(before.detail || note.detail ? { detail: { ...before.detail, ...note.detail } } : {}) };
}

export class AuditDeclarationError extends Error {
  constructor(method: string, url: string) {
    super(
      `${method} ${url} can change something: add config.audit to the route (an action from AUDIT_ACTIONS in dashboard/access/audit.ts, or { skip: 'why' } when it changes nothing)`,
    );
    this.name = 'AuditDeclarationError';
  }
}

const READ_ONLY = new Set(['GET', 'HEAD', 'OPTIONS']);

function outcomeOf(status: number): AuditOutcome {
  return status >= 500 ? 'failed' : status >= 400 ? 'refused' : 'ok';
}

function errorCode(payload: unknown): string | undefined {
  if (typeof payload !== 'string') return undefined;
  try {
    const code = (JSON.parse(payload) as { error?: unknown }).error;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

export function installAudit(app: FastifyInstance, audit: Pick<AuditLog, 'record'>): void {
  app.decorateRequest('auditNote', null);
  app.addHook('onRoute', (route) => {
    const method = [route.method].flat().find((m) => !READ_ONLY.has(m));
    if (method && !route.config?.audit) throw new AuditDeclarationError(method, route.url);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const action = request.routeOptions.config?.audit;
    if (!action || typeof action !== 'string') return payload;
    const note = request.auditNote ?? {};
    const session = request.session;
    const params = (request.params ?? {}) as Record<string, unknown>;
    const status = reply.statusCode;
    const entry = {
      actor: note.actor ?? (session ? (session.kind === 'display' ? `display:${session.user}` : session.user) : '(anonymous)'),
      address: request.ip,
      action,
      site: note.site ?? request.scope?.named[0],
      target: note.target ?? [params.id, params.name].find((v): v is string => typeof v === 'string'),
      outcome: outcomeOf(status),
      status,
      code: status >= 400 ? errorCode(payload) : undefined,
      detail: note.detail,
    };
    try {
      await audit.record(entry);
    } catch (err) {
      // The change itself is done (or refused) and its answer is true; the log line keeps the entry.
      request.log.error({ err, audit: entry }, 'the audit log could not be written: check DATA_DIR (space, permissions)');
    }
    return payload;
  });
}
