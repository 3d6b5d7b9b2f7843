import { z } from 'zod';
import { Duration } from './duration.js';

/** Process settings from the environment (SPEC "Commands a user types"), validated by the same zod as the farm file. */
const BOOL_WORDS = ['true', 'false', '1', '0', 'yes', 'no'] as const;
const Bool = z
  .union([z.boolean(), z.enum(BOOL_WORDS)], { error: `expected one of ${BOOL_WORDS.join(', ')}` })
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
// Messages say what a valid value looks like: zod's own ("expected number, received NaN") does not.
const PORT = 'expected a TCP port: a whole number from 0 to 65535 (0 picks a free one)';
const Port = z.coerce.number({ error: PORT }).int({ error: PORT }).min(0, { error: PORT }).max(65535, { error: PORT });
const Int = (min: number) => {
  const error = `expected a whole number of at least ${min}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error });
};
const Url = (example: string) => z.url({ error: `expected a URL such as ${example}` });

export const COMPONENTS = ['broker', 'ingest', 'rules', 'dashboard', 'simulate'] as const;
export type Component = (typeof COMPONENTS)[number];

export const EnvSettings = z.object({
  FARM_CONFIG: z.string().default('config/demo-farm.yaml'),
  DATA_DIR: z.string().default('./data'),
  MQTT_PORT: Port.default(1883),
  MQTT_HOST: z.string().default('0.0.0.0'),
  MQTT_URL: Url('mqtt://127.0.0.1:1883').optional(),
  MQTT_TOPIC_ROOT: z
    .string()
    .regex(/^[a-z0-9_-]+$/, 'lower-case letters, digits, _ and - (one topic level)')
    .default('farm'),
  MQTT_SERVICE_USERNAME: z.string().default('farm-service'),
  MQTT_SERVICE_PASSWORD: z.string().optional(),
  MQTT_TLS_PORT: Port.optional(),
  TLS_CERT: z.string().optional(),
  TLS_KEY: z.string().optional(),
  MQTT_RATE_LIMIT: Int(1).default(200),
  MQTT_RATE_BURST: Int(1).default(2000),
  // Connection limits (broker/connection-limits.ts holds the defaults and the reasons for them).
  MQTT_MAX_PENDING_PER_ADDRESS: Int(1).optional(),
  MQTT_MAX_CONNECTIONS_PER_DEVICE: Int(1).optional(),
  MQTT_MAX_CONNECTS_PER_MINUTE: Int(1).optional(),
  MQTT_MAX_AUTH_FAILURES_PER_MINUTE: Int(1).optional(),
  MQTT_BAN: Duration.optional(),
  /** From TCP accept until the CONNECT is accepted (TLS handshake included). */
  MQTT_CONNECT_TIMEOUT: Duration.optional(),
  /** The largest packet a service component may send to the embedded broker (a device's follow MAX_PAYLOAD_BYTES). */
  MQTT_MAX_SERVICE_PACKET_BYTES: Int(4096).default(16 * 1024 * 1024),
  /** With MQTT over TLS configured, `false` closes the plain MQTT port (MQTT_PORT). */
  MQTT_PLAINTEXT: Bool.default(true),
  HTTP_PORT: Port.default(3000),
  HTTP_HOST: z.string().default('0.0.0.0'),
  INFLUX_URL: Url('http://127.0.0.1:8086').optional(),
  INFLUX_DATABASE: z.string().default('farm'),
  INFLUX_USERNAME: z.string().optional(),
  INFLUX_PASSWORD: z.string().optional(),
  INFLUX_TOKEN: z.string().optional(),
  INFLUX_ORG: z.string().optional(),
  INFLUX_BUCKET: z.string().optional(),
  INFLUX_TIMEOUT: Duration.default(10_000),
  SIMULATE: Bool.optional(),
  MAX_PAYLOAD_BYTES: Int(64).default(64 * 1024),
  MAX_FUTURE_SKEW: Duration.default(5 * 60_000),
  MAX_PAST_AGE: Duration.default(365 * 86_400_000),
  BATCH_SIZE: Int(1).default(1000),
  /** InfluxDB healthy but behind by more than this many outbox entries: ingest waits for it (backpressure). */
  OUTBOX_HIGH_WATER: Int(1000).default(50_000),
  BATCH_INTERVAL: Duration.default(50),
  REJECTS_KEPT: Int(1).default(100),
  SESSION_TTL: Duration.default(12 * 3_600_000),
  /** The mail server of email channels: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...:465. */
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'expected smtp://user:pass@host:587 or smtps://user:pass@host:465' }).optional(),
  /** The dashboard's address as users reach it (https://farm.example.org): links in notifications. */
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'expected the address users open the dashboard at, e.g. https://farm.example.org' }).optional(),
  /** A site's first notification to a channel waits this long for companions (a storm goes out as one message). */
  NOTIFY_GROUP_WAIT: Duration.default(10_000),
  /** ...and the next one to the same channel no sooner than this after the previous. */
  NOTIFY_GROUP_INTERVAL: Duration.default(60_000),
  METRICS_PUBLIC: Bool.default(true),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'expected one of fatal, error, warn, info, debug, trace, silent' })
    .default('info'),
  // Split mode (npm start -- --only PART, cluster/README.md): one component per process over MQTT_URL.
  /** Names this process on the broker (MQTT client id, rules membership); ingest keeps its MQTT session under it. */
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . and - (max 64)')
    .optional(),
  /** MQTT v5 shared-subscription group of the ingest processes; `none` subscribes plainly (one ingest only). */
  INGEST_SHARE_GROUP: z
    .string()
    .regex(/^([A-Za-z0-9_-]{1,64})$/, 'letters, digits, _ and - (or none)')
    .default('ingest'),
  /** Sites this rules process owns (comma-separated); unset = every site. Each site must be owned by exactly one rules process. */
  RULES_SITES: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .optional(),
  /** How long the dashboard waits for a rules process to answer over MQTT. */
  RPC_TIMEOUT: Duration.default(5_000),
});

export type EnvSettingsT = z.output<typeof EnvSettings>;

/** Which store the settings select: InfluxDB v2 write API, InfluxDB v1 API, or the embedded SQLite store. */
export type StoreChoice =
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'influx-v1'; url: string; database: string; username?: string; password?: string; timeoutMs: number }
  | { kind: 'influx-v2'; url: string; token: string; org: string; bucket: string; database: string; timeoutMs: number };

export function storeChoice(env: EnvSettingsT): StoreChoice {
  if (!env.INFLUX_URL) return { kind: 'embedded', dataDir: env.DATA_DIR };
  if (env.INFLUX_TOKEN && env.INFLUX_ORG && env.INFLUX_BUCKET)
    return {
      kind: 'influx-v2',
      url: env.INFLUX_URL,
      token: env.INFLUX_TOKEN,
      org: env.INFLUX_ORG,
      bucket: env.INFLUX_BUCKET,
      database: env.INFLUX_BUCKET,
      timeoutMs: env.INFLUX_TIMEOUT,
    };
  return {
    kind: 'influx-v1',
    url: env.INFLUX_URL,
    database: env.INFLUX_DATABASE,
    username: env.INFLUX_USERNAME,
    password: env.INFLUX_PASSWORD ?? env.INFLUX_TOKEN,
    timeoutMs: env.INFLUX_TIMEOUT,
  };
}
