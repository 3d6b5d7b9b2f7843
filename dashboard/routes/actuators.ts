import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requestSession } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { CommandBody, CommandResponse, CommandsQuery, CommandsResponse, DeviceParams, ModeBody, ModeResponse, ActuatorsResponse } from '../schemas.js';
import { parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';
import { checkDeviceFilter } from './lookup.js';

/** Actuators: their confirmed state and mode, operator commands, auto/manual, command history. */
export function actuatorsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  const { deps } = ctx;

  function requireActuator(id: string): void {
    const device = deps.farm.device(id);
    if (!device) throw new ApiError('NOT_FOUND', `There is no device "${id}". GET /api/actuators lists the actuators.`);
    if (device.role !== 'actuator') throw new ApiError('NOT_ACTUATOR', `"${id}" is a sensor; only actuators take commands and modes.`);
  }

  return async (app) => {
    app.get('/api/actuators', { schema: { ...doc('viewer', 'actuators', 'Every actuator with its mode, confirmed state and pending command'), response: { 200: ActuatorsResponse, ...errs('viewer') } } }, async () => ({
      actuators: await deps.rules.actuators(),
    }));

    app.post(
      '/api/actuators/:id/command',
      {
        config: { access: 'operator' },
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
        if (untilMs !== undefined && untilMs <= now) throw new ApiError('VALIDATION', '"until" is in the past; give a future time.', [{ path: 'body.until', message: 'must be in the future' }]);
        // A duration goes to the engine as a duration: its clock decides when the hold ends.
        const hold = { untilMs, forMs: forMinutes === undefined ? undefined : forMinutes * 60_000 };
        const outcome = await deps.rules.command(request.params.id, action, action === 'set' ? value : undefined, requestSession(request).user, hold);
        return reply.code(202).send(outcome);
      },
    );

    app.post(
      '/api/actuators/:id/mode',
      {
        config: { access: 'operator' },
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
        if (untilMs !== undefined && untilMs <= now) throw new ApiError('VALIDATION', '"until" is in the past; give a future time.', [{ path: 'body.until', message: 'must be in the future' }]);
        return { actuator: await deps.rules.setMode(request.params.id, mode, untilMs, requestSession(request).user) };
      },
    );

    app.get(
      '/api/commands',
      { schema: { ...doc('viewer', 'actuators', 'Commands sent to actuators and their outcome, newest first'), querystring: CommandsQuery, response: { 200: CommandsResponse, ...errs('viewer', 400, 404, 503) } } },
      async (request) => {
        const q = request.query;
        checkDeviceFilter(deps.config, deps.farm, q);
        const now = ctx.now();
        const from = parseTimeArg(q.from ?? '-24h', now)!;
        const to = parseTimeArg(q.to ?? 'now', now)! + 1;
        const commands = await deps.store.commands({ device: q.device, site: q.site, from, to, limit: q.limit });
        return { commands: [...commands].sort((a, b) => b.ts - a.ts) };
      },
    );
  };
}
