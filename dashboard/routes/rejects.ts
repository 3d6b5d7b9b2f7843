import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { siteOf } from '../access/site-scope.js';
import type { RouteContext } from '../deps.js';
import { RejectsResponse } from '../schemas.js';
import { doc, errs } from './doc.js';

/** Recent rejected inputs and the counters by reason, for finding a misbehaving device. */
export function rejectsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/rejects',
      {
        config: { access: 'operator', site: siteOf.list() },
        schema: {
          ...doc('operator', 'ingest', 'The last rejected inputs, newest first, and counts by reason (the counts are process-wide)'),
          response: { 200: RejectsResponse, ...errs('operator') },
        },
      },
      async (request) => {
        const { accepted, duplicates, messages, batches, rejected, tagReads, tagDuplicates } = ctx.deps.ingest.stats();
        // A reject belongs to the site of its device, else to the site its topic names (farm/{site}/...); one that
        // names no site of the farm is shown only to users who see every site.
        const siteOfReject = (r: { device?: string; topic: string }) => (r.device ? ctx.deps.farm.device(r.device)?.site : undefined) ?? r.topic.split('/')[1];
        const rejects = ctx.deps.ingest.rejects().filter((r) => !request.scope.limited || request.scope.allows(siteOfReject(r) ?? ''));
        return {
          stats: { accepted, duplicates, messages, batches, tagReads: tagReads ?? 0, tagDuplicates: tagDuplicates ?? 0, rejected: { ...rejected } },
          rejects,
        };
      },
    );
  };
}
