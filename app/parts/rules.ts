import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { ClusterError } from '../../cluster/errors.js';
import { exportEvents, importEvents } from '../../cluster/event-bridge.js';
import { createStoreLedger } from '../../ingest/ledger.js';
import { announceMember, memberWill, watchRulesMembers, withdrawMember } from '../../cluster/membership.js';
import { overlapWith, ownedSites, partitionConfig, type RulesMember } from '../../cluster/partition.js';
import { serveRules } from '../../cluster/rules-server.js';
import { serveNotifications } from '../../cluster/notifications-rpc.js';
import { createNotifications } from '../../notifications/notifications.js';
import { notificationsOptions } from '../options.js';
import { createRulesEngine } from '../../rules/engine.js';
import { createHerd } from '../../animals/herd.js';
import { healthOf } from '../health.js';
import { countRuleEvents } from './rule-metrics.js';
import { connectToBroker, metricsTextOf, openStore, type PartContext, type PartHandle } from './context.js';
import { startOpsServer } from './ops-server.js';

/**
 * `--only rules`: the rules engine for the sites in RULES_SITES (all when unset). It receives validated
 * readings and actuator states of its sites from ingest, publishes commands and alerts, tells the dashboards
 * about them, and answers their requests (cluster/rules-server.ts). It refuses to start when another running
 * rules process already owns one of its sites.
 */
const RECHECK_MS = 500;

/**
 * The engine's own files (saved rules, actuator modes) per partition, named after its sites: stable across
 * restarts whatever INSTANCE_ID is, and never shared by two rules processes even when they share DATA_DIR
 * (the embedded SQLite store on one host).
 */
export function rulesStateDir(dataDir: string, sites: readonly string[]): string {
  const name = [...sites].sort().join('+');
  return join(dataDir, 'rules-state', name.length <= 120 ? name : `sites-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`);
}

export async function startRulesPart(ctx: PartContext): Promise<PartHandle> {
  const { env, logger, metrics } = ctx;
  const root = env.MQTT_TOPIC_ROOT;
  const sites = ownedSites(ctx.config, env.RULES_SITES);
  const config = partitionConfig(ctx.config, sites);
  const farm = indexFarm(config);
  const bus = new FarmBus();
  const { store, buffered } = await openStore(ctx);
  const svc = await connectToBroker(ctx, { will: memberWill(root, ctx.instance) });
  const members = watchRulesMembers(svc.client, root, logger);
  await members.start();
  const me: RulesMember = { instance: ctx.instance, sites, startedAt: Date.now() };
  const refuse = async (overlap: { site: string; instance: string }[]) => {
    await svc.end();
    await store.close();
    const list = overlap.map((o) => `${o.site} (owned by ${o.instance})`).join(', ');
    throw new ClusterError(
      'PARTITION_CONFLICT',
      `another rules process already owns ${list}: two rules processes acting on one site would both switch its actuators. Give each rules process its own RULES_SITES, or stop the other one`,
    );
  };
  if (overlapWith(me, members.members()).length) await refuse(overlapWith(me, members.members()));
  await announceMember(svc.client, root, me);
  // Two processes started at the same moment both saw an empty list: the later one (by start time) backs off.
  await new Promise((r) => setTimeout(r, RECHECK_MS));
  const earlier = members
    .members()
    .filter((m) => m.instance !== me.instance && (m.startedAt < me.startedAt || (m.startedAt === me.startedAt && m.instance < me.instance)));
  if (overlapWith(me, earlier).length) {
    await withdrawMember(svc.client, root, me.instance);
    await refuse(overlapWith(me, earlier));
  }

  const stateDir = rulesStateDir(env.DATA_DIR, sites);
  // Notifications run where the alerts are: this process's sites, its own journal next to its other state files.
  const notifications = createNotifications(
    { config, farm, bus, logger, metrics, journalPath: join(stateDir, 'notifications.db') },
    notificationsOptions(env, config),
  );
  notifications.start();
  // The herd of this partition's sites, for the missing-animal and head-count alerts (fed by bridged tag reads).
  const herd = createHerd({ config, farm, store, bus, logger: logger.child({ component: 'herd' }), dataDir: env.DATA_DIR });
  await herd.start();
  const rules = createRulesEngine(
    {
      config,
      farm,
      bus,
      store,
      publish: (topic, payload, opts) => svc.client.publishAsync(topic, payload, opts).then(() => undefined),
      logger, // the engine names itself (component: rules)
      stateDir,
    },
    { topicRoot: root },
  );
  countRuleEvents(bus, metrics);
  await rules.start();
  notifications.reconcile(rules.activeAlerts());
  const bridge = { bus, client: svc.client, topicRoot: root, metrics, logger };
  const stopExport = exportEvents(bridge, ['command', 'commandOutcome', 'alert', 'actuatorMode', 'actuatorHold', 'actuatorHolders']);
  // This process owns its sites, so it is where a value two ingest processes both took is stopped and counted.
  const ledger = createStoreLedger(store);
  await ledger.seedFromStore().catch((err: Error) => logger.warn({ err: err.message }, 'cannot read the newest stored readings for the duplicate check'));
  const stopImport = await importEvents(bridge, ['reading', 'status', 'actuatorState', 'tagReads'], sites, {
    ledger,
    duplicate: (n) => metrics.duplicates.inc(n),
  });
  const server = serveRules(svc.client, root, ctx.instance, rules, logger);
  await server.start();
  const notifyServer = serveNotifications(svc.client, root, ctx.instance, notifications, logger);
  await notifyServer.start();
  // A broker restarted without persistence has forgotten the retained membership: say it again on every reconnect.
  const reannounce = () => void announceMember(svc.client, root, me).catch(() => undefined);
  svc.client.on('connect', reannounce);
  logger.info({ instance: ctx.instance, sites }, 'rules process owns these sites');

  const ops = await startOpsServer({
    port: env.HTTP_PORT,
    host: env.HTTP_HOST,
    metricsText: metricsTextOf(metrics, buffered),
    health: async () => {
      const h = await healthOf({ store, buffered, brokerClients: 0 });
      return {
        status: svc.client.connected ? h.status : 'degraded',
        checks: { ...h.checks, mqttClients: undefined, mqtt: svc.client.connected ? 'connected' : 'reconnecting', instance: ctx.instance, sites },
      };
    },
  });

  return {
    ready: { part: 'rules', instance: ctx.instance, sites, http: ops.port },
    async stop() {
      svc.client.off('connect', reannounce);
      server.stop();
      notifyServer.stop();
      stopImport();
      await rules.stop();
      herd.stop();
      await notifications.stop();
      stopExport();
      members.stop();
      await withdrawMember(svc.client, root, ctx.instance).catch(() => undefined);
      await svc.end();
      await ops.stop();
      await store.close();
    },
  };
}
