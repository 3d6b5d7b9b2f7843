import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { DryRunBody, DryRunResponse, ReplaceRulesBody, ReplaceRulesResponse, RulesResponse } from '../schemas.js';
import { parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';

/** Rules: read (anyone logged in), replace without a restart (admin), dry run over stored history (operator). */
export function rulesRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { rules } = ctx.deps;
  const asRecords = (list: unknown[]) => list as Record<string, unknown>[];

  return async (app) => {
    app.get('/api/rules', { schema: { ...doc('viewer', 'rules', 'The rules in force (durations in ms)'), response: { 200: RulesResponse, ...errs('viewer') } } }, async () => ({
      rules: asRecords(await rules.rules()),
    }));

    app.put(
      '/api/rules',
      {
        config: { access: 'admin' },
        schema: {
          ...doc('admin', 'rules', 'Replace all rules; unchanged rules keep their state. 400 with problems naming rule index and field'),
          body: ReplaceRulesBody,
          response: { 200: ReplaceRulesResponse, ...errs('admin', 400) },
        },
      },
      async (request) => {
        const result = await rules.replaceRules(request.body);
        if (!result.ok) throw new ApiError('RULES_INVALID', `The rules were not changed: ${result.problems[0]?.path || '(top level)'}: ${result.problems[0]?.message}`, prefix('body', result.problems));
        request.log.info({ user: request.session?.user, changed: result.changed, removed: result.removed }, 'rules replaced');
        return { rules: asRecords(result.rules), changed: result.changed, kept: result.kept, removed: result.removed };
      },
    );

    app.post(
      '/api/rules/dry-run',
      {
        config: { access: 'operator' },
        schema: {
          ...doc('operator', 'rules', 'Run one rule over stored history and list when it would have fired and cleared; changes nothing'),
          body: DryRunBody,
          response: { 200: DryRunResponse, ...errs('operator', 400, 503) },
        },
      },
      async (request) => {
        const now = ctx.now();
        const from = parseTimeArg(request.body.from, now)!;
        const to = parseTimeArg(request.body.to, now)!;
        if (from >= to) throw new ApiError('VALIDATION', '"from" must be before "to".', [{ path: 'body.from', message: 'must be before to' }]);
        const result = await rules.dryRun(request.body.rule, from, to);
        if (!result.ok) throw new ApiError('RULES_INVALID', `The rule is invalid: ${result.problems[0]?.path || '(top level)'}: ${result.problems[0]?.message}`, prefix('body.rule', result.problems));
        return { events: result.events };
      },
    );
  };
}

function prefix(root: string, problems: { path: string; message: string }[]) {
  return problems.map((p) => ({ path: p.path ? (p.path.startsWith('[') ? `${root}${p.path}` : `${root}.${p.path}`) : root, message: p.message }));
}
