import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { noteAudit } from '../access/audit-hook.js';
import { perSite, siteOf } from '../access/site-scope.js';
import { requestSession } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { CommandBody, CommandResponse, CommandsQuery, CommandsResponse, DeviceParams, ModeBody, ModeResponse, ActuatorsResponse } from '../schemas.js';
import { parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';

/** Actuators: their confirmed state and mode, operator commands, auto/manual, command history. */
export function actuatorsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { deps } = ctx;

  /** The device exists within the user's sites (config.site checked it); it must be an actuator. */
  function requireActuator(id: string): void {
    if (deps.farm.device(id)?.role !== 'actuator') throw new ApiError('NOT_ACTUATOR', `"${id}" is a sensor; only actuators take commands and modes.`);
  }

  return async (app) => {
    app.get(
      '/api/actuators',
      {
        config: { site: siteOf.list() },
        schema: {
          ...doc('viewer', 'actuators', 'Every actuator with its mode, confirmed state and pending command'),
          response: { 200: ActuatorsResponse, ...errs('viewer') },
        },
      },
      async (request) => ({ actuators: (await deps.rules.actuators()).filter((a) => request.scope.allows(a.site)) }),
    );

    app.post(
      '/api/actuators/:id/command',
      {
        config: { access: 'operator', site: siteOf.device('id'), audit: 'actuator.command' },
        schema: {
          ...doc(
            'operator',
            'actuators',
            'Send on / off / set to an actuator; answers 202 with the command, the state follows once the actuator acknowledges. In auto mode the command holds the actuator until `until` / `forMinutes` (default: operatorHold, 30 min), then the rules take it back; 409 CONFLICT when a zone floor (minimum ventilation) or the fail-safe keeps it otherwise',
          ),
          params: DeviceParams,
          body: CommandBody,
          response: { 202: CommandResponse, ...errs('operator', 400, 404, 409) },
        },
      },
      async (request, reply) => {
        requireActuator(request.params.id);
        const { action, value, until, forMinutes } = request.body;
        const now = ctx.now();
        const untilMs = until === undefined ? undefined : parseTimeArg(until, now);
        noteAudit(request, {
          detail: {
            action,
            ...(action === 'set' ? { value } : {}),
            ...(untilMs !== undefined ? { until: untilMs } : {}),
            ...(forMinutes !== undefined ? { forMinutes } : {}),
          },
        });
        if (untilMs !== undefined && untilMs <= now)
          throw new ApiError('VALIDATION', '"until" is in the past; give a future time.', [{ path: 'body.until', message: 'must be in the future' }]);
        // A duration goes to the engine as a duration: its clock decides when the hold ends.
        const hold = { untilMs, forMs: forMinutes === undefined ? undefined : forMinutes * 60_000 };
        const outcome = await deps.rules.command(request.params.id, action, action === 'set' ? value : undefined, requestSession(request).user, hold);
        noteAudit(request, { detail: { command: outcome.command.id, ...(outcome.hold ? { holdUntil: outcome.hold.until } : {}) } });
        return reply.code(202).send(outcome);
      },
    );

    app.post(
      '/api/actuators/:id/mode',
      {
        config: { access: 'operator', site: siteOf.device('id'), audit: 'actuator.mode' },
        schema: {
          ...doc('operator', 'actuators', 'Switch an actuator between auto (rules command it) and manual (only operators do), optionally for a while'),
          params: DeviceParams,
          body: ModeBody,
          response: { 200: ModeResponse, ...errs('operator', 400, 404, 409) },
        },
      },
      async (request) => {
        requireActuator(request.params.id);
        const { mode, until, forMinutes } = request.body;
        const now = ctx.now();
        const untilMs = until ? parseTimeArg(until, now) : forMinutes ? now + forMinutes * 60_000 : undefined;
        noteAudit(request, { detail: { mode, ...(untilMs !== undefined ? { until: untilMs } : {}) } });
        if (untilMs !== undefined && untilMs <= now)
          throw new ApiError('VALIDATION', '"until" is in the past; give a future time.', [{ path: 'body.until', message: 'must be in the future' }]);
        return { actuator: await deps.rules.setMode(request.params.id, mode, untilMs, requestSession(request).user) };
      },
    );

    app.get(
      '/api/commands',
      {
        config: { site: siteOf.filters('query', ['site', 'device']) },
        schema: {
          ...doc('viewer', 'actuators', 'Commands sent to actuators and their outcome, newest first'),
          querystring: CommandsQuery,
          response: { 200: CommandsResponse, ...errs('viewer', 400, 404, 503) },
        },
      },
      async (request) => {
        const q = request.query;
        const now = ctx.now();
        const from = parseTimeArg(q.from ?? '-24h', now)!;
        const to = parseTimeArg(q.to ?? 'now', now)! + 1;
        const lists = await Promise.all(
          perSite(request.scope, { site: q.site }).map((f) => deps.store.commands({ device: q.device, ...f, from, to, limit: q.limit })),
        );
        return {
          commands: lists
            .flat()
            .sort((a, b) => b.ts - a.ts)
            .slice(0, q.limit),
        };
      },
    );
  };
}
