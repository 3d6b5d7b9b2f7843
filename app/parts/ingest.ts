import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { exportEvents } from '../../cluster/event-bridge.js';
import { prepareIngestConsumer, publishIngestStats, subscribeDeviceTopics } from '../../cluster/ingest-consumer.js';
import type { DeferredAcks } from '../../cluster/deferred-ack.js';
import { createIngest } from '../../ingest/ingest.js';
import { healthOf } from '../health.js';
import { connectToBroker, metricsTextOf, openStore, type PartContext, type PartHandle } from './context.js';
import { ingestOptions } from '../options.js';
import { startOpsServer } from './ops-server.js';

/**
 * `--only ingest`: device messages from the broker at MQTT_URL (a shared subscription, so several ingest
 * processes split the load) -> validate -> store; validated readings, states, statuses and rejects go on to
 * the rules and dashboard processes as service events.
 */
export async function startIngestPart(ctx: PartContext): Promise<PartHandle> {
  const { env, logger, metrics } = ctx;
  const farm = indexFarm(ctx.config);
  const bus = new FarmBus();
  const { store, buffered } = await openStore(ctx);
  const ingest = createIngest({ farm: () => farm, store, bus, logger: logger.child({ component: 'ingest' }), metrics }, ingestOptions(env));
  if (!env.INSTANCE_ID)
    logger.warn(
      `INSTANCE_ID is not set, so this ingest process is "${ctx.instance}": set a stable INSTANCE_ID (ingest-1, ingest-2 ...) so that after a crash it resumes its MQTT session and gets its unacknowledged readings again`,
    );

  let acks: DeferredAcks | undefined;
  const svc = await connectToBroker(ctx, { persistentSession: true, prepare: (client) => (acks = prepareIngestConsumer(client, ingest, logger)) });
  let shareGroup: string | undefined = env.INGEST_SHARE_GROUP === 'none' ? undefined : env.INGEST_SHARE_GROUP;
  if (shareGroup && !svc.sharedSubscriptions) {
    logger.warn(
      'the broker offers no MQTT v5 shared subscriptions: subscribing plainly, so run exactly ONE ingest process against it (each would store every reading)',
    );
    shareGroup = undefined;
  }
  const stopExport = exportEvents({ bus, client: svc.client, topicRoot: env.MQTT_TOPIC_ROOT, metrics, logger }, [
    'reading',
    'status',
    'actuatorState',
    'reject',
    'tagReads',
  ]);
  const consumer = { topicRoot: env.MQTT_TOPIC_ROOT, shareGroup, instance: ctx.instance };
  const filters = await subscribeDeviceTopics(svc.client, consumer);
  const stopStats = publishIngestStats(svc.client, ingest, consumer);
  logger.info({ filters, instance: ctx.instance }, 'ingest subscribed to device topics');

  const ops = await startOpsServer({
    port: env.HTTP_PORT,
    host: env.HTTP_HOST,
    metricsText: metricsTextOf(metrics, buffered),
    health: async () => {
      const h = await healthOf({ store, buffered, brokerClients: 0 });
      const checks = {
        ...h.checks,
        mqttClients: undefined,
        mqtt: svc.client.connected ? 'connected' : 'reconnecting',
        instance: ctx.instance,
        unacknowledged: acks?.pending() ?? 0,
        shareGroup: shareGroup ?? null,
      };
      return { status: svc.client.connected ? h.status : 'degraded', checks };
    },
  });

  return {
    ready: { part: 'ingest', instance: ctx.instance, http: ops.port, shareGroup: shareGroup ?? null },
    async stop() {
      // Leave the share group first so the other ingest processes get every new message, then let what was
      // received become durable (its PUBACKs go out), then disconnect.
      await svc.client.unsubscribeAsync(filters).catch(() => undefined);
      await ingest.stop();
      await stopStats();
      stopExport();
      await new Promise((r) => setImmediate(r));
      await svc.end();
      await ops.stop();
      await store.close();
    },
  };
}
