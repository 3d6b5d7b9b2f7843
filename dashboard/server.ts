import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { createAuditLog } from './access/audit.js';
import { installAudit } from './access/audit-hook.js';
import { createCredentials } from './access/credentials.js';
import { openAccessDb } from './access/db.js';
import { createDisplayTokens } from './access/displays.js';
import { createShareLinks } from './access/shares.js';
import { installSiteScope, type RouteEntry } from './access/site-scope.js';
import { installAuth } from './auth.js';
import { resolveOptions, type DashboardDeps, type DashboardOptions, type RouteContext } from './deps.js';
import { ApiError, redactTokens, registerErrorHandler } from './errors.js';
import { installJsonBodyParser } from './json-body.js';
import { createLoginLimiter } from './login-limiter.js';
import { DOCS_PREFIX, registerOpenApi } from './openapi.js';
import { actuatorsRoutes } from './routes/actuators.js';
import { animalsRoutes } from './routes/animals.js';
import { alertsRoutes } from './routes/alerts.js';
import { auditRoutes } from './routes/audit.js';
import { displaysRoutes } from './routes/displays.js';
import { notificationsRoutes } from './routes/notifications.js';
import { opsRoutes } from './routes/ops.js';
import { readingsRoutes } from './routes/readings.js';
import { rejectsRoutes } from './routes/rejects.js';
import { rulesRoutes } from './routes/rules.js';
import { sessionRoutes } from './routes/session.js';
import { sharePublicRoutes, shareRateLimit } from './routes/share-public.js';
import { sharesRoutes } from './routes/shares.js';
import { sitesRoutes } from './routes/sites.js';
import { usersRoutes } from './routes/users.js';
import { createSessionStore } from './sessions.js';
import { attachLive, type LiveServer } from './socket.js';
import { createLiveRain } from './live-rain.js';
import { createReportIntervals } from './report-intervals.js';
import { registerPage } from './static.js';
import { createUserDirectory } from './users.js';

export type { DashboardDeps, DashboardOptions } from './deps.js';

export interface DashboardHandle {
  app: FastifyInstance;
  io: LiveServer;
  /** Builds the page bundle, then listens; resolves with the bound port (useful with port 0). */
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
  stats(): { sessions: number; liveConnections: number };
  /** Every registered route with its declarations (access, site, audit), once the app is ready. */
  routes(): readonly RouteEntry[];
}

/**
 * The HTTP API, the live page and socket.io on one fastify server. Wiring only: each concern lives in its own
 * file (auth, access/*, errors, openapi, routes/*, socket, static) and gets what it needs from `deps`.
 * Hook order: auth (onRequest: who, which role), validation, site scope (preHandler: which sites, 404 outside
 * them), the handler, the audit log (onSend).
 */
export function createDashboard(deps: DashboardDeps, dashboardOptions: DashboardOptions): DashboardHandle {
  const options = resolveOptions(dashboardOptions);
  const now = deps.now ?? Date.now;
  const db = openAccessDb({ dataDir: options.dataDir });
  const users = createUserDirectory(() => deps.config.users, { file: options.usersFile, logger: deps.logger });
  const sessions = createSessionStore({ db, findUser: users.find }, { ttlMs: options.sessionTtlMs, now });
  const displays = createDisplayTokens({ db, logger: deps.logger, now });
  const shares = createShareLinks({ db, logger: deps.logger, now });
  const audit = createAuditLog({ db, logger: deps.logger, now });
  const credentials = createCredentials(sessions, displays);
  const intervals = createReportIntervals({
    get farm() {
      return deps.farm;
    },
    store: deps.store,
    bus: deps.bus,
    logger: deps.logger,
    now,
  });
  const liveRain = createLiveRain({ bus: deps.bus, now });
  const ctx: RouteContext = {
    deps,
    options,
    sessions,
    displays,
    shares,
    audit,
    credentials,
    loginLimiter: createLoginLimiter({ ...options.loginRateLimit, now }),
    users,
    intervals,
    liveRain,
    now,
  };

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
    if (reply.statusCode >= 500) request.log.warn({ url: redactTokens(request.url), status: reply.statusCode }, 'request failed');
  });

  void app.register(fastifyCookie);
  void app.register(fastifyHelmet, {
    // Plain HTTP on a farm LAN (http://192.168.x.x:3000) must keep working: upgrade and HSTS only with TLS.
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: options.https ? [] : null } },
    hsts: Boolean(options.https),
  });
  // Only the routes that ask for it (config.rateLimit): the share page and display links, reachable without login.
  void app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new ApiError('TOO_MANY_REQUESTS', `Too many requests from this address: try again in ${Math.ceil(context.ttl / 1000)} s.`),
  });
  // After the plugins above (lifecycle hooks run in the order they are added: cookies are parsed before auth);
  // their onRoute checks apply to every route registered from here on.
  installAuth(app, credentials);
  const routeTable = installSiteScope(
    app,
    {
      get config() {
        return deps.config;
      },
      get farm() {
        return deps.farm;
      },
      activeAlerts: () => deps.rules.activeAlerts(),
    },
    [{ prefix: DOCS_PREFIX, why: 'the API documentation, no site data' }],
  );
  installAudit(app, audit);
  registerOpenApi(app);
  void app.register(async (api) => {
    for (const routes of [
      opsRoutes,
      sessionRoutes,
      sitesRoutes,
      readingsRoutes,
      alertsRoutes,
      actuatorsRoutes,
      rulesRoutes,
      rejectsRoutes,
      usersRoutes,
      animalsRoutes,
      sharesRoutes,
      sharePublicRoutes,
      displaysRoutes,
      auditRoutes,
      notificationsRoutes,
    ])
      await api.register(routes(ctx));
  });
  const page = registerPage(app, { shareIsOpen: (token) => Boolean(shares.open(token)), shareRateLimit: shareRateLimit(ctx) });

  const live = attachLive({
    app,
    bus: deps.bus,
    get config() {
      return deps.config;
    },
    credentials,
    coalesceMs: options.coalesceMs,
    now,
  });
  const sweeper = setInterval(
    () => void sessions.sweep().catch((err: Error) => deps.logger.warn({ err: err.message }, 'expired sessions not removed; retried in a minute')),
    60_000,
  );
  sweeper.unref();

  return {
    app,
    io: live.io,
    async start() {
      await page.warm();
      await app.listen({ port: options.port, host: options.host });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      app.log.info({ port, https: Boolean(options.https), accessDb: db.path }, 'dashboard listening');
      return { port };
    },
    async stop() {
      clearInterval(sweeper);
      intervals.stop();
      liveRain.stop();
      await live.stop();
      await app.close();
      await db.close();
    },
    stats: () => ({ sessions: sessions.size(), liveConnections: live.connections() }),
    routes: () => routeTable,
  };
}
