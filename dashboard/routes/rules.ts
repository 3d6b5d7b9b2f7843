import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { canonicalJson } from '../../rules/compile.js';
import { Rule, type RuleT } from '../../rules/schema.js';
import { noteAudit } from '../access/audit-hook.js';
import { NOT_FOUND } from '../access/not-found.js';
import { namedSites, ruleVisible, ruleWithin } from '../access/rule-sites.js';
import { scopeOf, siteOf, type ResourceClaim } from '../access/site-scope.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { DryRunBody, DryRunResponse, ReplaceRulesBody, ReplaceRulesResponse, RulesResponse } from '../schemas.js';
import { parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';

/**
 * Rules: read (anyone logged in), replace without a restart (admin), dry run over stored history (operator).
 * A site-limited user sees the rules of their sites (access/rule-sites.ts); their PUT replaces those and keeps
 * the others as they are.
 */
export function rulesRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { rules, farm, config } = ctx.deps;
  const asRecords = (list: unknown[]) => list as Record<string, unknown>[];

  /** The sites the rules in a body name: one outside the caller's sites answers as a site that does not exist. */
  const claimOf = (request: FastifyRequest, raws: unknown[]): ResourceClaim | undefined => {
    const own = scopeOf(request.session, config);
    // Every site: the rules engine warns about ids it does not know, as it always did.
    if (!own.limited) return undefined;
    const parsed = raws.map((r) => Rule.safeParse(r)).flatMap((p) => (p.success ? [p.data] : []));
    const sites = [...new Set(parsed.flatMap((r) => namedSites(r, farm)))];
    const outside = sites.find((s) => !own.allows(s)) ?? '';
    return { sites, notFound: NOT_FOUND.site(outside) };
  };

  return async (app) => {
    app.get(
      '/api/rules',
      {
        config: { site: siteOf.list() },
        schema: { ...doc('viewer', 'rules', 'The rules in force (durations in ms)'), response: { 200: RulesResponse, ...errs('viewer') } },
      },
      async (request) => ({ rules: asRecords((await rules.rules()).filter((r) => ruleVisible(r, farm, request.scope))) }),
    );

    app.put(
      '/api/rules',
      {
        config: { access: 'admin', site: siteOf.resource('rules', (request) => claimOf(request, request.body as unknown[])), audit: 'rules.replace' },
        schema: {
          ...doc(
            'admin',
            'rules',
            'Replace all rules (a site-limited admin: the rules of their sites); unchanged rules keep their state. 400 with problems naming rule index and field',
          ),
          body: ReplaceRulesBody,
          response: { 200: ReplaceRulesResponse, ...errs('admin', 400, 404, 409) },
        },
      },
      async (request) => {
        const { scope } = request;
        const current = await rules.rules();
        const hidden = current.filter((r) => !ruleVisible(r, farm, scope));
        if (scope.limited) checkWithin(request.body, current, hidden, scope);
        // The caller's rules first, so problems keep the indices of the body; the rules they cannot see follow unchanged.
        const result = await rules.replaceRules([...request.body, ...hidden]);
        if (!result.ok)
          throw new ApiError(
            'RULES_INVALID',
            `The rules were not changed: ${result.problems[0]?.path || '(top level)'}: ${result.problems[0]?.message}`,
            prefix('body', result.problems),
          );
        const visibleIds = new Set(result.rules.filter((r) => ruleVisible(r, farm, scope)).map((r) => r.id));
        const seen = (ids: string[]) => ids.filter((id) => visibleIds.has(id) || !hidden.some((h) => h.id === id));
        noteAudit(request, { detail: { changed: seen(result.changed), removed: seen(result.removed) } });
        request.log.info({ user: request.session?.user, changed: result.changed, removed: result.removed }, 'rules replaced');
        return {
          rules: asRecords(result.rules.filter((r) => visibleIds.has(r.id))),
          changed: seen(result.changed),
          kept: seen(result.kept),
          removed: seen(result.removed),
        };
      },
    );

    app.post(
      '/api/rules/dry-run',
      {
        config: {
          access: 'operator',
          site: siteOf.resource('rules', (request) => claimOf(request, [(request.body as { rule?: unknown }).rule])),
          audit: { skip: 'a dry run changes nothing' },
        },
        schema: {
          ...doc('operator', 'rules', 'Run one rule over stored history and list when it would have fired and cleared; changes nothing'),
          body: DryRunBody,
          response: { 200: DryRunResponse, ...errs('operator', 400, 404, 503) },
        },
      },
      async (request) => {
        const now = ctx.now();
        const from = parseTimeArg(request.body.from, now)!;
        const to = parseTimeArg(request.body.to, now)!;
        if (from >= to) throw new ApiError('VALIDATION', '"from" must be before "to".', [{ path: 'body.from', message: 'must be before to' }]);
        const result = await rules.dryRun(request.body.rule, from, to);
        if (!result.ok)
          throw new ApiError(
            'RULES_INVALID',
            `The rule is invalid: ${result.problems[0]?.path || '(top level)'}: ${result.problems[0]?.message}`,
            prefix('body.rule', result.problems),
          );
        return { events: result.events.filter((e) => request.scope.allows(e.site)) };
      },
    );
  };

  /** A limited admin writes only rules within their sites, except ones they send back unchanged; ids of rules they cannot see are taken. */
  function checkWithin(body: unknown[], current: RuleT[], hidden: RuleT[], scope: FastifyRequest['scope']): void {
    const sites = scope.sites.join(', ');
    body.forEach((raw, i) => {
      const parsed = Rule.safeParse(raw);
      if (!parsed.success) return; // replaceRules names the problem
      const rule = parsed.data;
      if (hidden.some((h) => h.id === rule.id)) throw new ApiError('CONFLICT', `Rule id "${rule.id}" is taken: give the rule another id.`);
      const before = current.find((r) => r.id === rule.id);
      if (before && canonicalJson(before) === canonicalJson(rule)) return;
      if (!ruleWithin(rule, farm, scope))
        throw new ApiError('VALIDATION', `body[${i}].scope: a rule you write must apply only to your sites (${sites}): set scope.site.`, [
          { path: `body[${i}].scope`, message: `must stay within ${sites}` },
        ]);
    });
  }
}

function prefix(root: string, problems: { path: string; message: string }[]) {
  return problems.map((p) => ({ path: p.path ? (p.path.startsWith('[') ? `${root}${p.path}` : `${root}.${p.path}`) : root, message: p.message }));
}
