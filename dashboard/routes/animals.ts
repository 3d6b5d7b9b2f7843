import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { movesOf } from '../../animals/timeline.js';
import { CsvError } from '../../animals/csv.js';
import { parseTag } from '../../core/tags.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { AnimalParams, AnimalQuery, AnimalResponse, AnimalsQuery, AnimalsResponse, ImportBody, ImportResponse } from '../schemas.js';
import { parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';
import { checkDeviceFilter } from './lookup.js';

/** A register of 45,000 lines is about 3 MB; a larger body is refused (413) before it is read. */
const IMPORT_BODY_LIMIT = 16 * 1024 * 1024;

/**
 * The ear-tag register (SPEC "Animals"): search it, one animal with its reads and moves, CSV import (admin).
 * How each route finds its site: the list takes `site` from the query (or lists all); an animal's site is the
 * one it is in or belongs to (`animal.site`), read from the herd before anything else is answered.
 */
export function animalsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { deps } = ctx;
  return async (app) => {
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_request, body, done) => done(null, body));

    app.get(
      '/api/animals',
      { schema: { ...doc('viewer', 'animals', 'Search the register and the unknown tags: where each animal is, when it was last read, whether it is missing'), querystring: AnimalsQuery, response: { 200: AnimalsResponse, ...errs('viewer', 400, 404) } } },
      async (request) => {
        const { site, zone, ...rest } = request.query;
        checkDeviceFilter(deps.config, deps.farm, { site, zone });
        return deps.herd.list({ site, zone, ...rest });
      },
    );

    app.get(
      '/api/animals/:tag',
      {
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
        if (!parsed.ok || !animal) throw new ApiError('NOT_FOUND', `No animal or read with tag "${request.params.tag}". GET /api/animals?q= searches the register.`);
        const now = ctx.now();
        const from = parseTimeArg(request.query.from, now)!;
        const to = parseTimeArg(request.query.to, now)! + 1;
        const reads = await deps.store.tagReads({ tag: animal.tag, from, to, limit: request.query.limit });
        const view = reads.map(({ ts, device, site, zone, direction }) => (direction ? { ts, device, site, zone, direction } : { ts, device, site, zone }));
        return { animal, reads: view, moves: movesOf(reads) };
      },
    );

    app.post(
      '/api/animals/import',
      {
        config: { access: 'admin' },
        bodyLimit: IMPORT_BODY_LIMIT,
        schema: {
          ...doc('admin', 'animals', 'Import animals from CSV (header tag,group,born,sex,zone): new tags are added, known ones updated; kept across restarts. Answers the counts and every rejected line with its reason'),
          consumes: ['text/csv', 'text/plain'],
          body: ImportBody,
          response: { 200: ImportResponse, ...errs('admin', 400, 413, 503) },
        },
      },
      async (request) => {
        try {
          return deps.herd.importCsv(request.body);
        } catch (err) {
          if (err instanceof CsvError) throw new ApiError('VALIDATION', err.message, [{ path: 'body', message: err.message }]);
          throw err;
        }
      },
    );
  };
}
