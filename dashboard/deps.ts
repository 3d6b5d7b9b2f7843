import type { LiveRain } from './live-rain.js';
import type { Logger } from 'pino';
import type { FarmConfigT } from '../core/config/schema.js';
import type { FarmBus } from '../core/events.js';
import type { FarmIndex } from '../core/farm-index.js';
import type { IngestHandle } from '../ingest/handle.js';
import type { RulesHandle } from '../rules/handle.js';
import type { NotificationsHandle } from '../notifications/handle.js';
import type { Store } from '../store/store.js';
import type { Herd } from '../animals/herd.js';
import { DEFAULT_HIGH_WATER, type HighWaterRule } from './drainage.js';
import type { AuditLog } from './access/audit.js';
import type { Credentials } from './access/credentials.js';
import type { DisplayTokens } from './access/displays.js';
import type { ShareLinks } from './access/shares.js';
import type { LoginLimiter } from './login-limiter.js';
import type { ReportIntervals } from './report-intervals.js';
import type { SessionStore } from './sessions.js';
import type { UserDirectory } from './users.js';

/** What the dashboard needs from the rest of the process; all of it comes in as arguments. */
export interface DashboardDeps {
  config: FarmConfigT;
  farm: FarmIndex;
  bus: FarmBus;
  store: Store;
  rules: RulesHandle;
  /** Silences, deliveries and channel tests (notifications/handle.ts); remote in a split deployment. */
  notifications: NotificationsHandle;
  ingest: IngestHandle;
  /** The ear-tag register and head counts (animals/herd.ts): the Animals routes and each zone's headCount. */
  herd: Pick<Herd, 'list' | 'animal' | 'headCounts' | 'importCsv' | 'missingAfterMs'>;
  logger: Logger;
  health: () => Promise<{ status: 'ok' | 'degraded' | 'down'; checks: Record<string, unknown> }>;
  /** Prometheus text exposition of the whole process. */
  metricsText: () => Promise<string>;
  now?: () => number;
}

export interface DashboardOptions {
  port: number;
  host: string;
  sessionTtlMs: number;
  /** When false, /metrics needs an admin login (a bearer token works for scrapers). */
  metricsPublic: boolean;
  https?: { cert: string | Buffer; key: string | Buffer };
  /** Failed logins allowed per client address per window. */
  loginRateLimit?: { max: number; timeWindowMs: number };
  /** Behind a reverse proxy: take the client address from X-Forwarded-For (for the login limit). */
  trustProxy?: boolean;
  /** Readings per device are merged over this interval before they go to browsers. */
  coalesceMs?: number;
  /** A history request may ask for at most this many buckets. */
  maxBuckets?: number;
  highWater?: HighWaterRule;
  /** Where users added or changed over the API are kept (DATA_DIR/users.json); without it, until restart. */
  usersFile?: string;
  /**
   * DATA_DIR: sessions, display tokens, share links and the audit log are kept in access.db there. Without it
   * they live in a temporary directory and last as long as the process.
   */
  dataDir?: string;
  /** The dashboard's address as users reach it (PUBLIC_URL), for share and display links; else the request's own. */
  publicUrl?: string;
  /** Requests per client address per minute to the share page and its API (GET /share/…, GET /api/share/…). */
  shareRateLimit?: { max: number; timeWindowMs: number };
}

export type ResolvedOptions = Required<Omit<DashboardOptions, 'https' | 'usersFile' | 'dataDir' | 'publicUrl'>> &
  Pick<DashboardOptions, 'https' | 'usersFile' | 'dataDir' | 'publicUrl'>;

export function resolveOptions(options: DashboardOptions): ResolvedOptions {
  return {
    loginRateLimit: { max: 5, timeWindowMs: 60_000 },
    trustProxy: false,
    // Every update waits for at most one 50 ms batching tick (dashboard/coalesce.ts), and a device updates a
    // screen at most 20 times a second. A longer per-device cap (100 ms was tried) holds a device that reports
    // at about that rate for an extra tick whenever its readings arrive a little early: measured with 200
    // clients at 1,000 readings/s, delivery p50/p99 went from 64/125 ms to 38/71 ms with 50.
    coalesceMs: 50,
    maxBuckets: 5000,
    highWater: DEFAULT_HIGH_WATER,
    shareRateLimit: { max: 60, timeWindowMs: 60_000 },
    ...options,
  };
}

/** Handed to every route plugin. */
export interface RouteContext {
  deps: DashboardDeps;
  options: ResolvedOptions;
  sessions: SessionStore;
  displays: DisplayTokens;
  shares: ShareLinks;
  /** Routes record through `config.audit` (access/audit-hook.ts); this is for what happens outside a request. */
  audit: AuditLog;
  credentials: Credentials;
  loginLimiter: LoginLimiter;
  users: UserDirectory;
  /** How often each device reports, for the age of values on screens. */
  intervals: ReportIntervals;
  /** Rain seen live in the last minutes: drainage snapshots count it even before its write is visible. */
  liveRain: LiveRain;
  now: () => number;
}
