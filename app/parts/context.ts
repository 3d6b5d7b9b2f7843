import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { EnvSettingsT } from '../../core/config/env.js';
import { storeChoice } from '../../core/config/env.js';
import type { FarmConfigT } from '../../core/config/schema.js';
import type { FarmMetrics } from '../../core/observability.js';
import { ClusterError } from '../../cluster/errors.js';
import { connectServiceClient, type ServiceClient, type ServiceClientOptions } from '../../cluster/service-client.js';
import type { BufferedStore } from '../../store/buffered-store.js';
import type { Store } from '../../store/store.js';
import { createStoreFor } from '../store-factory.js';

/** What every part of a split deployment (npm start -- --only PART) starts from. */
export interface PartContext {
  part: string;
  env: EnvSettingsT;
  config: FarmConfigT;
  logger: Logger;
  metrics: FarmMetrics;
  /** INSTANCE_ID, or `{part}-{host}-{pid}`. */
  instance: string;
}

export interface PartHandle {
  /** What main.ts logs once the part is ready. */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

export function instanceId(part: string, env: EnvSettingsT): string {
  return env.INSTANCE_ID ?? `${part}-${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
}

export function connectToBroker(ctx: PartContext, extra: Partial<ServiceClientOptions> = {}): Promise<ServiceClient> {
  const url = ctx.env.MQTT_URL;
  if (!url)
    throw new ClusterError(
      'MQTT_UNREACHABLE',
      `--only ${ctx.part} talks to a broker over the network: set MQTT_URL (e.g. mqtt://127.0.0.1:1883) and MQTT_SERVICE_PASSWORD`,
    );
  return connectServiceClient({
    url,
    username: ctx.env.MQTT_SERVICE_USERNAME,
    password: ctx.env.MQTT_SERVICE_PASSWORD,
    clientId: ctx.instance,
    logger: ctx.logger.child({ component: 'mqtt' }),
    ...extra,
  });
}

/**
 * The store of this process. InfluxDB sits behind an outbox under DATA_DIR, so every process needs a DATA_DIR of
 * its own; the embedded SQLite store is one file that processes on one host may share (WAL, busy_timeout).
 */
export async function openStore(ctx: PartContext): Promise<{ store: Store; buffered?: BufferedStore }> {
  const choice = storeChoice(ctx.env);
  const opened = createStoreFor(choice, ctx.env.DATA_DIR, ctx.logger.child({ component: 'store' }), { highWaterEntries: ctx.env.OUTBOX_HIGH_WATER });
  await opened.store.init();
  ctx.logger.info({ store: choice.kind, dataDir: ctx.env.DATA_DIR }, 'store ready');
  return opened;
}

/** Prometheus text of this process, with the outbox gauges refreshed. */
export function metricsTextOf(metrics: FarmMetrics, buffered?: BufferedStore, refresh?: () => void): () => Promise<string> {
  return async () => {
    if (buffered) {
      const s = buffered.stats();
      metrics.outboxDepth.set(s.outboxDepth);
      metrics.outboxAgeSeconds.set(s.outboxOldestAgeMs / 1000);
    }
    refresh?.();
    return metrics.registry.metrics();
  };
}
