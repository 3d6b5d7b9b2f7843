import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Server } from 'socket.io';
import { installAuth } from './auth.js';
import { resolveOptions, type DashboardDeps, type DashboardOptions, type RouteContext } from './deps.js';
import { registerErrorHandler } from './errors.js';
import { installJsonBodyParser } from './json-body.js';
import { createLoginLimiter } from './login-limiter.js';
import { registerOpenApi } from './openapi.js';
import { actuatorsRoutes } from './routes/actuators.js';
import { animalsRoutes } from './routes/animals.js';
import { alertsRoutes } from './routes/alerts.js';
import { opsRoutes } from './routes/ops.js';
import { readingsRoutes } from './routes/readings.js';
import { rejectsRoutes } from './routes/rejects.js';
import { rulesRoutes } from './routes/rules.js';
import { sessionRoutes } from './routes/session.js';
import { sitesRoutes } from './routes/sites.js';
import { createSessionStore } from './sessions.js';
import { createUserDirectory } from './users.js';
import { usersRoutes } from './routes/users.js';
import { attachLive } from './socket.js';
import { registerPage } from './static.js';

export type { DashboardDeps, DashboardOptions } from './deps.js';

export interface DashboardHandle {
  app: FastifyInstance;
  io: Server;
  /** Builds the page bundle, then listens; resolves with the bound port (useful with port 0). */
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
  stats(): { sessions: number; liveConnections: number };
}

/**
 * The HTTP API, the live page and socket.io on one fastify server. Wiring only: each concern lives in its own
 * file (auth, errors, openapi, routes/*, socket, static) and gets what it needs from `deps`.
 */
export function createDashboard(deps: DashboardDeps, dashboardOptions: DashboardOptions): DashboardHandle {
  const options = resolveOptions(dashboardOptions);
  const now = deps.now ?? Date.now;
  const sessions = createSessionStore({ ttlMs: options.sessionTtlMs, now });
  const users = createUserDirectory(deps.config.users, { file: options.usersFile, logger: deps.logger });
  const ctx: RouteContext = { deps, options, sessions, loginLimiter: createLoginLimiter({ ...options.loginRateLimit, now }), users, now };

  const app = Fastify({
    loggerInstance: deps.logger,
    // One line per failed request (onResponse below) instead of two per request: a live page polls a lot.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: options.trustProxy,
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  installJsonBodyParser(app);
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 500) request.log.warn({ url: request.url, status: reply.statusCode }, 'request failed');
  });

  void app.register(fastifyCookie);
  void app.register(fastifyHelmet, {
    // Plain HTTP on a farm LAN (http://192.168.x.x:3000) must keep working: upgrade and HSTS only with TLS.
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: options.https ? [] : null } },
    hsts: Boolean(options.https),
  });
  installAuth(app, sessions);
  registerOpenApi(app);
  void app.register(async (api) => {
    for (const routes of [opsRoutes, sessionRoutes, sitesRoutes, readingsRoutes, alertsRoutes, actuatorsRoutes, rulesRoutes, rejectsRoutes, usersRoutes, animalsRoutes]) await api.register(routes(ctx));
  });
  const page = registerPage(app);

  const live = attachLive({ app, bus: deps.bus, config: deps.config, sessions, coalesceMs: options.coalesceMs, now });
  const sweeper = setInterval(() => sessions.sweep(), 60_000);
  sweeper.unref();

  return {
    app,
    io: live.io,
    async start() {
      await page.warm();
      await app.listen({ port: options.port, host: options.host });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      app.log.info({ port, https: Boolean(options.https) }, 'dashboard listening');
      return { port };
    },
    async stop() {
      clearInterval(sweeper);
      await live.stop();
      await app.close();
    },
    stats: () => ({ sessions: sessions.size(), liveConnections: live.connections() }),
  };
}
