import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { importEvents } from '../../cluster/event-bridge.js';
import { createStoreLedger } from '../../ingest/ledger.js';
import { createIngestView } from '../../cluster/ingest-view.js';
import { watchRulesMembers } from '../../cluster/membership.js';
import { coverage } from '../../cluster/partition.js';
import { createRemoteRules, reviveRulesError } from '../../cluster/remote-rules.js';
import { createRemoteNotifications } from '../../cluster/notifications-rpc.js';
import { createRpcClient } from '../../cluster/rpc.js';
import { replyTopic } from '../../cluster/service-topics.js';
import { createDashboard } from '../../dashboard/server.js';
import { createHerd } from '../../animals/herd.js';
import { healthOf } from '../health.js';
import { connectToBroker, metricsTextOf, openStore, type PartContext, type PartHandle } from './context.js';
import { dashboardOptions } from '../options.js';

/**
 * `--only dashboard`: the HTTP API, the live page and socket.io. Live events come from the ingest and rules
 * processes over MQTT; rules operations (alerts, actuators, commands, rule edits) are requests to the rules
 * process owning the site; history is read from the store. Several dashboard processes may run side by side.
 */
export async function startDashboardPart(ctx: PartContext): Promise<PartHandle> {
  const { env, config, logger, metrics } = ctx;
  const root = env.MQTT_TOPIC_ROOT;
  const farm = indexFarm(config);
  const bus = new FarmBus();
  const { store, buffered } = await openStore(ctx);
  const svc = await connectToBroker(ctx);
  const members = watchRulesMembers(svc.client, root, logger);
  await members.start();
  const rpc = createRpcClient({
    client: svc.client,
    protocolVersion: svc.protocolVersion,
    replyTopic: replyTopic(root, ctx.instance),
    timeoutMs: env.RPC_TIMEOUT,
    logger,
    revive: reviveRulesError,
  });
  await rpc.start();
  const rules = createRemoteRules({ rpc, members, farm, topicRoot: root, metrics });
  const notifications = createRemoteNotifications({ rpc, members, topicRoot: root, metrics });
  const ingest = createIngestView({ bus, client: svc.client, farm, topicRoot: root, rejectsKept: env.REJECTS_KEPT });
  await ingest.start();
  // Its own copy of the herd, rebuilt from the store and kept current by the tag reads ingest passes on.
  const herd = createHerd({ config, farm, store, bus, logger: logger.child({ component: 'herd' }), dataDir: env.DATA_DIR });
  await herd.start();

  const siteIds = config.sites.map((s) => s.id);
  const dashboard = createDashboard(
    {
      config,
      farm,
      bus,
      store,
      rules,
      notifications,
      ingest,
      herd,
      logger: logger.child({ component: 'dashboard' }),
      health: async () => {
        const h = await healthOf({ store, buffered, brokerClients: 0 });
        const cover = coverage(siteIds, members.members());
        const rulesOk = cover.unowned.length === 0 && cover.conflicts.length === 0;
        const checks = {
          ...h.checks,
          mqttClients: undefined,
          mqtt: svc.client.connected ? 'connected' : 'reconnecting',
          rules: cover,
          ingest: ingest.perInstance(),
        };
        return { status: svc.client.connected && rulesOk ? h.status : h.status === 'down' ? 'down' : 'degraded', checks };
      },
      metricsText: metricsTextOf(metrics, buffered, () => {
        metrics.socketClients.set(dashboard.stats().liveConnections);
        metrics.devicesOnline.set(ingest.presence().filter((p) => p.status === 'online').length);
      }),
    },
    dashboardOptions(env),
  );
  // Events before the socket.io server exists would be lost anyway; subscribing last keeps start-up simple.
  // Screens show each value once even when two ingest processes both took a copy; the rules process counts those.
  const ledger = createStoreLedger(store);
  await ledger.seedFromStore().catch((err: Error) => logger.warn({ err: err.message }, 'cannot read the newest stored readings for the duplicate check'));
  const readings = { ledger, duplicate: (n: number) => metrics.serviceEvents.inc({ direction: 'dropped', event: 'reading' }, n) };
  const stopImport = await importEvents(
    { bus, client: svc.client, topicRoot: root, metrics, logger },
    ['reading', 'status', 'actuatorState', 'reject', 'command', 'commandOutcome', 'alert', 'actuatorMode', 'actuatorHold', 'actuatorHolders', 'tagReads'],
    undefined,
    readings,
  );
  const { port } = await dashboard.start();

  return {
    ready: {
      part: 'dashboard',
      instance: ctx.instance,
      http: port,
      message: `dashboard on ${env.TLS_CERT && env.TLS_KEY ? 'https' : 'http'}://localhost:${port}`,
    },
    async stop() {
      await dashboard.stop();
      stopImport();
      herd.stop();
      ingest.stop();
      rpc.stop();
      members.stop();
      await svc.end();
      await store.close();
    },
  };
}
