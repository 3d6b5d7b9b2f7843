import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { alertPages } from '../../store/pages.js';
import { noteAudit } from '../access/audit-hook.js';
import { NOT_FOUND } from '../access/not-found.js';
import { perSite, siteOf } from '../access/site-scope.js';
import { requestSession } from '../auth.js';
import type { RouteContext } from '../deps.js';
import { ApiError } from '../errors.js';
import { sendCsv, wantsCsv } from '../export/csv.js';
import { exportLang } from '../export/labels.js';
import { alertsTable } from '../export/tables.js';
import { AckResponse, AlertParams, AlertsQuery, AlertsResponse } from '../schemas.js';
import { parseTimeArg } from '../time.js';
import { doc, errs } from './doc.js';
import { silenceFor } from '../../notifications/silences.js';

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;
const DEFAULT_LIMIT = 500;

/** Active alerts (from the rules engine), alert history (from the store), acknowledging; CSV exports of both. */
export function alertsRoutes(ctx: RouteContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/alerts',
      {
        config: { site: siteOf.filters('query', ['site']) },
        schema: {
          ...doc(
            'viewer',
            'alerts',
            'Active alerts, worst first (state=active), or alert events from history (state=all); CSV with ?format=csv or Accept: text/csv',
          ),
          querystring: AlertsQuery,
          response: { 200: AlertsResponse, ...errs('viewer', 400, 404, 503) },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const { scope } = request;
        const csv = wantsCsv(q.format, request.headers.accept);
        const now = ctx.now();
        const from = parseTimeArg(q.from ?? '-24h', now)!;
        const to = parseTimeArg(q.to ?? 'now', now)! + 1;
        const active = async () =>
          (await ctx.deps.rules.activeAlerts())
            .filter((a) => scope.sites.includes(a.site))
            .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.ts - a.ts)
            .slice(0, q.limit ?? DEFAULT_LIMIT);
        const queries = perSite(scope, { site: q.site });

        if (!csv) {
          if (q.state === 'active') {
            // Each says which silence holds its notifications back (it is still recorded and shown).
            const [alerts, silences] = await Promise.all([active(), ctx.deps.notifications.silences()]);
            return {
              alerts: alerts.map((a) => {
                const s = silenceFor(a, silences, now);
                return s ? { ...a, silence: { id: s.id, endsAt: s.endsAt, reason: s.reason } } : a;
              }),
            };
          }
          const limit = q.limit ?? DEFAULT_LIMIT;
          const alerts = (await Promise.all(queries.map((f) => ctx.deps.store.alerts({ ...f, from, to, limit })))).flat();
          return { alerts: alerts.sort((a, b) => b.ts - a.ts).slice(0, limit) };
        }

        const { farm } = ctx.deps;
        const zones = new Set(scope.sites.map((s) => farm.timeZone(s)));
        const options = {
          lang: exportLang(q.lang, request.headers['accept-language']),
          timeZoneOf: (s: string) => farm.timeZone(s),
          headerTimeZone: zones.size === 1 ? [...zones][0] : undefined,
        };
        const pages =
          q.state === 'active'
            ? (async function* () {
                yield await active();
              })()
            : (async function* () {
                for (const f of queries) yield* alertPages(ctx.deps.store, { ...f, from, to, limit: q.limit });
              })();
        const name = `alerts-${q.state}-${q.site ?? 'all'}-${new Date(q.state === 'active' ? now : from).toISOString().slice(0, 10)}.csv`;
        return sendCsv(reply, name, alertsTable(pages, options));
      },
    );

    app.post(
      '/api/alerts/:id/ack',
      {
        config: { access: 'operator', site: siteOf.alert('id'), audit: 'alert.ack' },
        schema: {
          ...doc('operator', 'alerts', 'Acknowledge an active alert'),
          params: AlertParams,
          response: { 200: AckResponse, ...errs('operator', 400, 404) },
        },
      },
      async (request) => {
        const alert = await ctx.deps.rules.acknowledge(request.params.id, requestSession(request).user);
        if (!alert) throw new ApiError('NOT_FOUND', NOT_FOUND.alert(request.params.id));
        noteAudit(request, { detail: { rule: alert.rule, zone: alert.zone, device: alert.device, severity: alert.severity, level: alert.level } });
        return { alert };
      },
    );
  };
}
