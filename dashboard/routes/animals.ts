import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { movesOf } from '../../animals/timeline.js';
import { CsvError } from '../../animals/csv.js';
import { parseTag } from '../../core/tags.js';
import { noteAudit } from '../access/audit-hook.js';
import { NOT_FOUND } from '../access/not-found.js';
import { siteOf } from '../access/site-scope.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { AnimalParams, AnimalQuery, AnimalResponse, AnimalsQuery, AnimalsResponse, ImportBody, ImportResponse } from '../schemas.js';
import { parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';

/** A register of 45,000 lines is about 3 MB; a larger body is refused (413) before it is read. */
const IMPORT_BODY_LIMIT = 16 * 1024 * 1024;

/**
 * The ear-tag register (SPEC "Animals"): search it, one animal with its reads and moves, CSV import (admin).
 * How each route finds its site: the list takes `site` and `zone` from the query (a site-limited user's list
 * holds their sites' animals only); an animal's site is the one it is in or belongs to (`animal.site`), read from
 * the herd before anything else is answered; the register import is farm-wide, for admins of every site.
 */
export function animalsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { deps } = ctx;
  return async (app) => {
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_request, body, done) => done(null, body));

    app.get(
      '/api/animals',
      {
        config: { site: siteOf.filters('query', ['site', 'zone']) },
        schema: {
          ...doc('viewer', 'animals', 'Search the register and the unknown tags: where each animal is, when it was last read, whether it is missing'),
          querystring: AnimalsQuery,
          response: { 200: AnimalsResponse, ...errs('viewer', 400, 404) },
        },
      },
      async (request) => {
        const { site, zone, ...rest } = request.query;
        return deps.herd.list({ site, zone, ...rest, ...(request.scope.limited && !site ? { sites: request.scope.sites } : {}) });
      },
    );

    app.get(
      '/api/animals/:tag',
      {
        config: {
          site: siteOf.resource('animal', (request) => {
            const { tag } = request.params as { tag: string };
            const parsed = parseTag(tag);
            const animal = parsed.ok ? deps.herd.animal(parsed.tag) : undefined;
            return animal ? { sites: animal.site ? [animal.site] : 'all', notFound: NOT_FOUND.animal(tag) } : undefined;
          }),
        },
        schema: {
          ...doc('viewer', 'animals', 'One animal (or unknown tag): where it is, and its reads and moves in a time range (default the last 30 days)'),
          params: AnimalParams,
          querystring: AnimalQuery,
          response: { 200: AnimalResponse, ...errs('viewer', 400, 404, 503) },
        },
      },
      async (request) => {
        const parsed = parseTag(request.params.tag);
        const animal = parsed.ok ? deps.herd.animal(parsed.tag) : undefined;
        if (!parsed.ok || !animal) throw new ApiError('NOT_FOUND', NOT_FOUND.animal(request.params.tag));
        const now = ctx.now();
        const from = parseTimeArg(request.query.from, now)!;
        const to = parseTimeArg(request.query.to, now)! + 1;
        // Reads at readers of sites the user does not see (an animal moved between sites) are left out.
        const reads = (await deps.store.tagReads({ tag: animal.tag, from, to, limit: request.query.limit })).filter((r) => request.scope.allows(r.site));
        const view = reads.map(({ ts, device, site, zone, direction }) => (direction ? { ts, device, site, zone, direction } : { ts, device, site, zone }));
        return { animal, reads: view, moves: movesOf(reads) };
      },
    );

    app.post(
      '/api/animals/import',
      {
        config: {
          access: 'admin',
          site: siteOf.none('the register is farm-wide: only an admin of every site imports it (the handler refuses others)'),
          audit: 'animals.import',
        },
        bodyLimit: IMPORT_BODY_LIMIT,
        schema: {
          ...doc(
            'admin',
            'animals',
            'Import animals from CSV (header tag,group,born,sex,zone): new tags are added, known ones updated; kept across restarts. Answers the counts and every rejected line with its reason',
          ),
          consumes: ['text/csv', 'text/plain'],
          body: ImportBody,
          response: { 200: ImportResponse, ...errs('admin', 400, 413, 503) },
        },
      },
      async (request) => {
        if (request.scope.limited) throw new ApiError('FORBIDDEN', 'The animal register is farm-wide: an admin of every site imports it. Ask one to.');
        try {
          const result = deps.herd.importCsv(request.body);
          noteAudit(request, {
            detail: { lines: result.lines, added: result.added, updated: result.updated, unchanged: result.unchanged, rejected: result.rejected.length },
          });
          return result;
        } catch (err) {
          if (err instanceof CsvError) throw new ApiError('VALIDATION', err.message, [{ path: 'body', message: err.message }]);
          throw err;
        }
      },
    );
  };
}
