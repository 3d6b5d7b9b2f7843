import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RouteContext } from '../deps.js';
import { RejectsResponse } from '../schemas.js';
import { doc, errs } from './doc.js';

/** Recent rejected inputs and the counters by reason, for finding a misbehaving device. */
export function rejectsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/rejects',
      { config: { access: 'operator' }, schema: { ...doc('operator', 'ingest', 'The last rejected inputs, newest first, and counts by reason'), response: { 200: RejectsResponse, ...errs('operator') } } },
      async () => {
        const { accepted, duplicates, messages, batches, rejected, tagReads, tagDuplicates } = ctx.deps.ingest.stats();
        return { stats: { accepted, duplicates, messages, batches, tagReads: tagReads ?? 0, tagDuplicates: tagDuplicates ?? 0, rejected: { ...rejected } }, rejects: ctx.deps.ingest.rejects() };
      },
    );
  };
}
