import type { FastifyInstance } from 'fastify';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import type { FarmConfigT } from '../core/config/schema.js';
import type { DeviceRef, Reading } from '../core/domain.js';
import type { FarmBus, FarmEvents } from '../core/events.js';
import type { Credentials } from './access/credentials.js';
import { scopeOf } from './access/site-scope.js';
import { SESSION_COOKIE } from './auth.js';
import { createCoalescer, mergeReadings, newest } from './coalesce.js';
import type { ClientToServerEvents, JoinAnswer, ServerToClientEvents } from './live-events.js';
import type { Session } from './sessions.js';

/**
 * Live updates over socket.io on the dashboard's own HTTP server.
 * - A connection needs a live session: the farm_session cookie or `auth: { token }` in the handshake; it is
 *   closed when the session is logged out or expires.
 * - A client emits `join` with the site ids it views (`{ sites: [...] }`) and then receives only those sites;
 *   a site outside a site-limited session's sites is answered like a site that does not exist (`unknown`).
 * - Every minute each connection's session is looked up again, so one revoked or ended by another dashboard
 *   process (sharing DATA_DIR) closes too.
 * - Server → client events: `reading` (Reading[]: per device merged over `coalesceMs`), `device`
 *   (status changes, also batched), `actuator` (`change: 'state'` = the actuator's own confirmed state,
 *   `change: 'mode'` = auto/manual, `change: 'holders'` = who holds it now, operator holds with their end),
 *   `command` (sent, awaiting acknowledgement), `alert` (AlertEvent). Typed by live-events.ts, shared with the page.
 * The socket is read-only: commands go through the HTTP API, where roles are checked.
 */
export const JoinPayload = z.object({ sites: z.array(z.string().max(64)).max(500) }).strict();

export interface LiveDeps {
  app: FastifyInstance;
  bus: FarmBus;
  config: FarmConfigT;
  credentials: Credentials;
  coalesceMs: number;
  /** How often live connections re-check their session. */
  recheckMs?: number;
  now: () => number;
}

/** What the server keeps per connection. */
export interface SocketData {
  session: Session;
}

export type LiveServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface LiveHandle {
  io: LiveServer;
  connections(): number;
  stop(): Promise<void>;
}

const room = (site: string) => `site:${site}`;

/**
 * A browser always sends Origin on a WebSocket handshake; refusing foreign origins stops another web page from
 * opening a live connection with the user's cookie. Clients without Origin (scripts, tests) carry a token.
 * Behind a reverse proxy that rewrites Host, the proxy's X-Forwarded-Host counts as the page's host.
 */
export function sameOrigin(headers: { origin?: string; host?: string; 'x-forwarded-host'?: string | string[] }): boolean {
  if (!headers.origin) return true;
  try {
    const origin = new URL(headers.origin).host;
    return origin === headers.host || [headers['x-forwarded-host']].flat().includes(origin);
  } catch {
    return false;
  }
}

type StatusEvent = FarmEvents['status'][0];

export function attachLive(deps: LiveDeps): LiveHandle {
  const io: LiveServer = new Server(deps.app.server, {
    serveClient: false,
    maxHttpBufferSize: 16 * 1024,
    allowRequest: (req, callback) => callback(null, sameOrigin(req.headers)),
  });
  const byId = new Map<string, Set<LiveSocket>>();

  io.use((socket, next) => {
    const cookies = deps.app.parseCookie(socket.handshake.headers.cookie ?? '');
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const given = typeof auth?.token === 'string' ? auth.token : cookies[SESSION_COOKIE];
    const session = deps.credentials.resolve(given);
    if (!session)
      return next(Object.assign(new Error('UNAUTHENTICATED'), { data: { message: 'Log in first (POST /api/login); the session may have expired.' } }));
    socket.data.session = session;
    next();
  });

  io.on('connection', (socket) => {
    const session = socket.data.session;
    const sockets = byId.get(session.id) ?? new Set<LiveSocket>();
    sockets.add(socket);
    byId.set(session.id, sockets);
    // Ends the connection when its session expires, even if the client never makes another HTTP request.
    const expiry =
      session.expiresAt === undefined
        ? undefined
        : setTimeout(
            () => {
              socket.emit('session-ended', { reason: 'expired' });
              socket.disconnect(true);
            },
            Math.min(2 ** 31 - 1, Math.max(0, session.expiresAt - deps.now())),
          );
    expiry?.unref();
    const scope = scopeOf(session, deps.config);

    // Typed by ClientToServerEvents, but a client may send anything: the payload is checked here, the answer only
    // given to a function.
    socket.on('join', (payload: unknown, ack: unknown) => {
      const parsed = JoinPayload.safeParse(payload);
      const reply = typeof ack === 'function' ? (ack as (answer: JoinAnswer) => void) : () => {};
      if (!parsed.success) return reply({ ok: false, error: 'VALIDATION', message: 'join expects { sites: ["site-id", ...] }' });
      const wanted = new Set(parsed.data.sites.filter((s) => scope.allows(s)));
      for (const r of socket.rooms) if (r.startsWith('site:') && !wanted.has(r.slice(5))) void socket.leave(r);
      for (const s of wanted) void socket.join(room(s));
      reply({ ok: true, sites: [...wanted], unknown: parsed.data.sites.filter((s) => !wanted.has(s)) });
    });

    socket.on('disconnect', () => {
      clearTimeout(expiry);
      sockets.delete(socket);
      if (sockets.size === 0) byId.delete(session.id);
    });
  });

  const endAll = (id: string, reason: string) => {
    for (const socket of byId.get(id) ?? []) {
      socket.emit('session-ended', { reason });
      socket.disconnect(true);
    }
  };
  deps.credentials.onEnd((session, reason) => endAll(session.id, reason));
  const recheck = setInterval(() => {
    for (const [id, sockets] of byId) {
      const first = sockets.values().next().value;
      const session = first?.data.session;
      if (session && !deps.credentials.current(session)) endAll(id, 'revoked');
    }
  }, deps.recheckMs ?? 60_000);
  recheck.unref();

  /** A batch split by site: each site's part goes to its room (pushed in place: copying a site's list for each item was quadratic). */
  const bySite = <T extends { site: string }>(batch: T[]) => {
    const sites = new Map<string, T[]>();
    for (const item of batch) {
      const items = sites.get(item.site);
      if (items) items.push(item);
      else sites.set(item.site, [item]);
    }
    return sites;
  };
  const readings = createCoalescer<Reading>({
    intervalMs: deps.coalesceMs,
    key: (r) => r.device,
    merge: mergeReadings,
    flush: (b) => bySite(b).forEach((items, site) => io.to(room(site)).emit('reading', items)),
  });
  const heads = createCoalescer<FarmEvents['headCount'][0]>({
    intervalMs: deps.coalesceMs,
    key: (h) => `${h.site}/${h.zone}`,
    merge: newest,
    flush: (b) => bySite(b).forEach((items, site) => io.to(room(site)).emit('headCount', items)),
  });
  const statuses = createCoalescer<StatusEvent>({
    intervalMs: deps.coalesceMs,
    key: (s) => s.device,
    merge: newest,
    flush: (b) => bySite(b).forEach((items, site) => io.to(room(site)).emit('device', items)),
  });

  const ref = (d: DeviceRef) => ({ site: d.site, zone: d.zone, kind: d.kind, device: d.device });
  const listeners: { [K in keyof FarmEvents]?: (...args: FarmEvents[K]) => void } = {
    reading: (r) => readings.add(r),
    status: (s) => statuses.add({ ...ref(s), status: s.status, ts: s.ts }),
    actuatorState: (a) => void io.to(room(a.site)).emit('actuator', { change: 'state', ...ref(a), state: a.state, value: a.value, ack: a.ack, ts: a.ts }),
    actuatorMode: (m) => void io.to(room(m.site)).emit('actuator', { change: 'mode', ...ref(m), mode: m.mode, until: m.until, by: m.by, ts: deps.now() }),
    actuatorHolders: (h) => void io.to(room(h.site)).emit('actuator', { change: 'holders', ...ref(h), holders: h.holders, ts: h.ts }),
    command: (c) => void io.to(room(c.site)).emit('command', { ...ref(c), command: c.command }),
    commandOutcome: (c) => void io.to(room(c.site)).emit('commandOutcome', c),
    alert: (a) => void io.to(room(a.site)).emit('alert', a),
    headCount: (h) => heads.add(h),
  };
  for (const [event, fn] of Object.entries(listeners)) deps.bus.on(event as keyof FarmEvents, fn);

  return {
    io,
    connections: () => io.engine.clientsCount,
    async stop() {
      clearInterval(recheck);
      for (const [event, fn] of Object.entries(listeners)) deps.bus.off(event as keyof FarmEvents, fn);
      readings.stop();
      statuses.stop();
      heads.stop();
      // Closing the transports (not a socket.io disconnect) tells browsers the service went away, so they
      // reconnect by themselves once it is back; io.close() would also close fastify's HTTP server.
      io.engine.close();
    },
  };
}
