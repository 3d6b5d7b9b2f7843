import { ErrorBody } from '../errors.js';
import type { Access } from '../auth.js';

/** OpenAPI metadata for a route: tag, summary and the role it needs, stated next to its schema. */
export interface RouteDoc {
  tags: string[];
  summary: string;
  description: string;
  security?: { [scheme: string]: string[] }[];
}

export function doc(access: Access, tag: string, summary: string): RouteDoc {
  return {
    tags: [tag],
    summary,
    description: access === 'public' ? 'No login needed.' : `Needs the **${access}** role (or higher).`,
    ...(access === 'public' ? {} : { security: [{ session: [] }, { bearer: [] }] }),
  };
}

/** Documented error answers: 401/403 for every route behind a login, plus the listed statuses. */
export function errs(access: Access, ...statuses: number[]) {
  const all = access === 'public' ? statuses : [401, 403, ...statuses];
  return Object.fromEntries(all.map((s) => [s, ErrorBody]));
}
