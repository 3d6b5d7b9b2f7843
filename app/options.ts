import { readFileSync } from 'node:fs';
import { connectionLimitsFromEnv, type BrokerOptions } from '../broker/broker.js';
import type { EnvSettingsT } from '../core/config/env.js';
import { ConfigError, ENVIRONMENT } from '../core/config/load.js';
import type { DashboardOptions } from '../dashboard/deps.js';
import type { IngestOptions } from '../ingest/ingest.js';
import type { FarmConfigT } from '../core/config/schema.js';
import type { NotificationsOptions } from '../notifications/notifications.js';

/**
 * Component options from the environment, in one place for both entries: everything in one process
 * (app/service.ts) and one component per process (app/parts/*). A setting read here means the same in both.
 */
export function ingestOptions(env: EnvSettingsT): IngestOptions {
  return {
    topicRoot: env.MQTT_TOPIC_ROOT,
    maxPayloadBytes: env.MAX_PAYLOAD_BYTES,
    maxFutureMs: env.MAX_FUTURE_SKEW,
    maxPastMs: env.MAX_PAST_AGE,
    batchSize: env.BATCH_SIZE,
    batchIntervalMs: env.BATCH_INTERVAL,
    rejectsKept: env.REJECTS_KEPT,
  };
}

export function brokerOptions(env: EnvSettingsT): BrokerOptions {
  const tls =
    env.MQTT_TLS_PORT !== undefined && env.TLS_CERT && env.TLS_KEY ? { port: env.MQTT_TLS_PORT, certFile: env.TLS_CERT, keyFile: env.TLS_KEY } : undefined;
  if (!env.MQTT_PLAINTEXT && !tls)
    throw new ConfigError(ENVIRONMENT, [
      {
        path: 'MQTT_PLAINTEXT',
        message: 'false closes the plain MQTT port, which leaves no port at all: also set MQTT_TLS_PORT, TLS_CERT and TLS_KEY, or set MQTT_PLAINTEXT=true',
      },
    ]);
  return {
    port: env.MQTT_PLAINTEXT ? env.MQTT_PORT : undefined,
    host: env.MQTT_HOST,
    topicRoot: env.MQTT_TOPIC_ROOT,
    tls,
    maxMessagesPerSecond: env.MQTT_RATE_LIMIT,
    burst: env.MQTT_RATE_BURST,
    connectionLimits: connectionLimitsFromEnv(env),
    maxPayloadBytes: env.MAX_PAYLOAD_BYTES,
    maxServicePacketBytes: env.MQTT_MAX_SERVICE_PACKET_BYTES,
  };
}

export function dashboardOptions(env: EnvSettingsT): DashboardOptions {
  return {
    port: env.HTTP_PORT,
    host: env.HTTP_HOST,
    sessionTtlMs: env.SESSION_TTL,
    metricsPublic: env.METRICS_PUBLIC,
    // Users changed over the API; read at start.
    usersFile: `${env.DATA_DIR}/users.json`,
    // Sessions, display tokens, share links and the audit log (access.db): they survive a restart.
    dataDir: env.DATA_DIR,
    publicUrl: env.PUBLIC_URL,
    https: env.TLS_CERT && env.TLS_KEY ? { cert: readFileSync(env.TLS_CERT), key: readFileSync(env.TLS_KEY) } : undefined,
  };
}

/**
 * Notifications (SMTP_URL, PUBLIC_URL, grouping). An email channel without a mail server could never deliver:
 * that stops start-up with what to set, in the processes that send (one process, or the rules processes).
 */
export function notificationsOptions(env: EnvSettingsT, config: Pick<FarmConfigT, 'channels'>): Partial<NotificationsOptions> {
  const mail = config.channels.filter((c) => c.type === 'email').map((c) => c.id);
  if (mail.length > 0 && !env.SMTP_URL)
    throw new ConfigError('environment', [
      {
        path: 'SMTP_URL',
        message: `the email channel${mail.length > 1 ? 's' : ''} ${mail.join(', ')} need${mail.length > 1 ? '' : 's'} a mail server: set SMTP_URL (e.g. smtp://user:pass@mail.example.org:587), or remove the channel`,
      },
    ]);
  return { smtpUrl: env.SMTP_URL, publicUrl: env.PUBLIC_URL, group: { waitMs: env.NOTIFY_GROUP_WAIT, intervalMs: env.NOTIFY_GROUP_INTERVAL } };
}
