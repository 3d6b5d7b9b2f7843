import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

/**
 * JSON request bodies: fastify's own parser (which refuses `__proto__` and `constructor.prototype` keys, the
 * prototype-poisoning tricks) plus a depth limit. Nothing the API takes nests deeply (a rule's all/any
 * conditions are a few levels), while a body nested thousands of levels deep would overflow the stack of
 * whatever walks it recursively (a recursive schema, a serializer) and turn a bad request into a 500.
 */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of a parsed JSON value, counted without recursion; stops counting past `limit`. */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, level]);
  }
  return deepest;
}

export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    void parse(request, body as string, (err, value) => {
      if (err) return done(err, undefined);
      if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
        return done(
          new ApiError('VALIDATION', `The JSON body nests more than ${MAX_JSON_DEPTH} levels deep; nothing this API takes is that deep.`, [
            { path: 'body', message: `deeper than ${MAX_JSON_DEPTH} levels` },
          ]),
          undefined,
        );
      done(null, value);
    });
  });
}
