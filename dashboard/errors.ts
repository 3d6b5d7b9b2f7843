import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ActuatorError } from '../rules/handle.js';
import { StoreError } from '../store/store.js';
import { UserChangeError } from './users.js';
import { NotificationsError } from '../notifications/handle.js';

/**
 * Every error the API answers with, in one place: a stable code, the HTTP status and a message that tells
 * the caller what to do. Bodies look like `{ error: "VALIDATION", message: "...", problems?: [{path, message}] }`.
 */
export const API_ERRORS = {
  VALIDATION: { status: 400, hint: 'Fix the request as described in problems (see /api/docs).' },
  TOO_MANY_BUCKETS: { status: 400, hint: 'Use a larger "every" or a shorter time range.' },
  RULES_INVALID: { status: 400, hint: 'Fix the rules at the paths listed in problems and send them again.' },
  UNAUTHENTICATED: { status: 401, hint: 'Log in with POST /api/login and send the session cookie or an Authorization: Bearer token.' },
  INVALID_CREDENTIALS: { status: 401, hint: 'Check the user name and password.' },
  FORBIDDEN: { status: 403, hint: 'Ask an administrator for a role that allows this.' },
  NOT_FOUND: { status: 404, hint: 'Check the id; GET /api/sites lists sites, zones and devices.' },
  NOT_ACTUATOR: { status: 409, hint: 'Only actuators (fan, spray, shutter, pump, valve) take commands.' },
  CONFLICT: { status: 409, hint: 'The request conflicts with the current state; the message says which.' },
  TOO_MANY_ATTEMPTS: { status: 429, hint: 'Too many failed logins: wait before trying again.' },
  TOO_MANY_REQUESTS: { status: 429, hint: 'Too many requests from this address: wait a minute and try again.' },
  STORE_UNAVAILABLE: { status: 503, hint: 'The readings store is not answering; check /health and try again shortly.' },
  RULES_UNAVAILABLE: { status: 503, hint: 'The rules engine runs in another process that did not answer (split mode, cluster/README.md); check /health.' },
  INTERNAL: { status: 500, hint: 'Unexpected error; the server log has the details.' },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export interface Problem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ApiErrorCode,
    message?: string,
    readonly problems?: Problem[],
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? API_ERRORS[code].hint);
    this.name = 'ApiError';
    this.statusCode = API_ERRORS[code].status;
  }
}

/** The body of every 4xx/5xx answer; also used as the documented error response schema. */
export const ErrorBody = z
  .object({
    error: z.string().describe('stable error code, e.g. VALIDATION, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND'),
    message: z.string().describe('what went wrong and what to do'),
    problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'ApiError' });

export type ErrorBodyT = z.infer<typeof ErrorBody>;

/**
 * Errors raised by fastify and its plugins before our handlers run (bad JSON, wrong content type, body too
 * large, a static file path outside its folder) and what the API says about them.
 */
const FASTIFY_STATUS: Record<number, { code: string; hint: string }> = {
  400: { code: 'VALIDATION', hint: 'Fix the request (see /api/docs).' },
  403: { code: 'FORBIDDEN', hint: 'That path is not allowed.' },
  404: { code: 'NOT_FOUND', hint: 'The API is described at /api/docs.' },
  405: { code: 'METHOD_NOT_ALLOWED', hint: 'See /api/docs for the methods of each route.' },
  406: { code: 'NOT_ACCEPTABLE', hint: 'Ask for application/json.' },
  413: { code: 'PAYLOAD_TOO_LARGE', hint: 'Send a smaller body.' },
  414: { code: 'URI_TOO_LONG', hint: 'Send a shorter URL.' },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', hint: 'Send JSON with Content-Type: application/json.' },
  429: { code: 'TOO_MANY_REQUESTS', hint: 'Wait and try again.' },
};

function fromFastify(err: FastifyError): { status: number; code: string; message: string } {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status >= 500) return { status, code: 'INTERNAL', message: API_ERRORS.INTERNAL.hint };
  const known = FASTIFY_STATUS[status] ?? { code: 'VALIDATION', hint: 'Fix the request (see /api/docs).' };
  const message = String(err.message || known.code);
  return { status, code: known.code, message: message.length >= 30 ? message : `${message}. ${known.hint}` };
}

function problemPath(context: string | undefined, instancePath: string): string {
  const inner = instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
  return [context, inner].filter(Boolean).join('.');
}

export function toErrorReply(err: unknown): { status: number; body: ErrorBodyT; headers?: Record<string, string> } {
  if (err instanceof ApiError) return { status: err.statusCode, body: { error: err.code, message: err.message, problems: err.problems }, headers: err.headers };
  if (hasZodFastifySchemaValidationErrors(err)) {
    const context = (err as { validationContext?: string }).validationContext;
    const problems = err.validation.map((v) => ({ path: problemPath(context, v.instancePath), message: v.message ?? 'invalid' }));
    const first = problems[0];
    return { status: 400, body: { error: 'VALIDATION', message: `${first.path || context}: ${first.message}. ${API_ERRORS.VALIDATION.hint}`, problems } };
  }
  if (err instanceof ActuatorError) {
    const code =
      ({ NOT_FOUND: 'NOT_FOUND', NOT_ACTUATOR: 'NOT_ACTUATOR', BAD_COMMAND: 'VALIDATION', OUTRANKED: 'CONFLICT' } as const)[err.code] ?? 'VALIDATION';
    return { status: API_ERRORS[code].status, body: { error: code, message: err.message } };
  }
  if (err instanceof NotificationsError) {
    const code = err.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'VALIDATION';
    return { status: API_ERRORS[code].status, body: { error: code, message: err.message } };
  }
  if (err instanceof UserChangeError)
    return { status: 400, body: { error: 'VALIDATION', message: err.message, problems: [{ path: 'body.password', message: err.message }] } };
  if (err instanceof StoreError) return { status: 503, body: { error: 'STORE_UNAVAILABLE', message: `${err.message} ${API_ERRORS.STORE_UNAVAILABLE.hint}` } };
  // Split mode: a rules process that is not there or did not answer in time (cluster/errors.ts ClusterError).
  const clusterCode = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  if (clusterCode === 'RULES_UNAVAILABLE' || clusterCode === 'RULES_TIMEOUT')
    return { status: 503, body: { error: 'RULES_UNAVAILABLE', message: (err as Error).message } };
  if (err && typeof err === 'object' && 'statusCode' in err && typeof (err as FastifyError).statusCode === 'number' && !isResponseSerializationError(err)) {
    const { status, code, message } = fromFastify(err as FastifyError);
    if (status < 500) return { status, body: { error: code, message } };
  }
  return { status: 500, body: { error: 'INTERNAL', message: API_ERRORS.INTERNAL.hint } };
}

/** Share and display tokens travel in paths (/share/{token}): logs get the path without them. */
export function redactTokens(url: string): string {
  return url.replace(/^(\/(?:api\/)?share\/|\/display\/)[^/?#]+/, '$1<token>');
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const { status, body, headers } = toErrorReply(err);
    if (status >= 500) request.log.error({ err, url: redactTokens(request.url) }, 'request failed');
    else request.log.debug({ code: body.error, url: redactTokens(request.url) }, body.message);
    if (headers) reply.headers(headers);
    return reply.code(status).type('application/json').send(JSON.stringify(body));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/json')
      .send(JSON.stringify({ error: 'NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0]}. The API is described at /api/docs.` })),
  );
}
