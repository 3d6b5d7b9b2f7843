import type { Logger } from 'pino';
import type { EnvSettingsT } from '../core/config/env.js';
import { storeChoice } from '../core/config/env.js';
import type { FarmConfigT } from '../core/config/schema.js';
import { FarmBus } from '../core/events.js';
import { indexFarm } from '../core/farm-index.js';
import { describeChanges, farmChanges, type FarmChanges } from '../core/farm-changes.js';
import { switchableRules } from './rules-slot.js';
import { createMetrics, type FarmMetrics } from '../core/observability.js';
import { createBroker, type Broker } from '../broker/broker.js';
import { join } from 'node:path';
import { brokerOptions, dashboardOptions, ingestOptions, notificationsOptions } from './options.js';
import { createNotifications } from '../notifications/notifications.js';
import { metricsTextOf } from './parts/context.js';
import { createIngest, type Ingest } from '../ingest/ingest.js';
import { createStoreFor } from './store-factory.js';
import type { Store } from '../store/store.js';
import { createRulesEngine } from '../rules/engine.js';
import type { Clock } from '../rules/clock.js';
import { createDashboard } from '../dashboard/server.js';
import { createHerd, type Herd } from '../animals/herd.js';
import { createSimulatorRunner } from '../simulators/runner.js';
import { backfillHistory } from '../simulators/backfill.js';
import { healthOf } from './health.js';
import { countRuleEvents } from './parts/rule-metrics.js';

/**
 * Wires the components of one process: embedded broker → ingest → store, rules, dashboard, simulated farm.
 * Nothing here decides anything; each component is created by its own factory with its dependencies.
 */
export interface ServiceHandle {
  /** Plain MQTT; undefined when MQTT_PLAINTEXT=false left only MQTT over TLS. */
  mqttPort?: number;
  mqttTlsPort?: number;
  httpPort: number;
  store: Store;
  ingest: Ingest;
  herd: Herd;
  broker: Broker;
  bus: FarmBus;
  metrics: FarmMetrics;
  /** What the first start filled in (the demo farm's simulated week), for the start-up banner. */
  history?: string;
  /**
   * Takes a new version of the farm file (already validated) while running: devices, users and sites (app/reload.ts
   * calls it on SIGHUP and when the file changes). Unchanged devices keep their connections; removed and changed ones
   * are disconnected (a changed secret takes effect at their next login); the rules engine restarts on the new farm
   * (recovering its state as after any restart) when devices or sites changed.
   */
  reloadFarm(next: FarmConfigT): Promise<FarmChanges>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  env: EnvSettingsT;
  config: FarmConfigT;
  logger: Logger;
  /** Run the simulated farm (SIMULATE); decided by the caller. */
  simulate: boolean;
  simulateScenario?: string;
  /** Time for ingest's timestamp checks and the rules engine; default the system clock. Tests pass a simulated clock. */
  clock?: Clock;
  /**
   * Days of simulated history to write into an empty store before anything else starts (the demo farm's first
   * start: simulators/backfill.ts). The caller decides; never for a user's own farm.
   */
  backfillDays?: number;
}

export async function startService({ env, config, logger, simulate, simulateScenario, clock, backfillDays }: ServiceOptions): Promise<ServiceHandle> {
  // The farm file as it is now: replaced by reloadFarm, read through these by ingest, the broker and the dashboard.
  let current = { config, farm: indexFarm(config) };
  const farm = current.farm;
  const bus = new FarmBus();
  const metrics = createMetrics();
  const choice = storeChoice(env);
  const { store, buffered } = createStoreFor(choice, env.DATA_DIR, logger.child({ component: 'store' }), { highWaterEntries: env.OUTBOX_HIGH_WATER });
  await store.init();
  logger.info({ store: choice.kind, dataDir: env.DATA_DIR }, 'store ready');
  // Before the rules engine: it then judges the recent history as after any restart, and nothing is made for the past.
  const backfilled = backfillDays
    ? await backfillHistory({ farm: config, store, logger: logger.child({ component: 'history' }), now: clock?.now }, { days: backfillDays })
    : undefined;

  // The herd is rebuilt from the stored tag reads before anything can move it (ingest) or judge it (rules).
  const herd = createHerd({ config, farm, store, bus, logger: logger.child({ component: 'herd' }), clock, dataDir: env.DATA_DIR });
  await herd.start();

  const ingest = createIngest({ farm: () => current.farm, store, bus, logger: logger.child({ component: 'ingest' }), metrics, clock }, ingestOptions(env));

  const broker = await createBroker(
    {
      farm: () => current.farm,
      logger: logger.child({ component: 'broker' }),
      metrics,
      service: { username: env.MQTT_SERVICE_USERNAME, password: env.MQTT_SERVICE_PASSWORD },
      onDeviceMessage: (device, topic, payload, qos) => ingest.accept(topic, payload, device, { qos }),
      onReject: ingest.recordReject,
      onDeviceDisconnect: ingest.deviceDisconnected,
    },
    brokerOptions(env),
  );
  const { port: mqttPort, tlsPort: mqttTlsPort } = await broker.start();

  // Notifications listen before the rules engine starts: alerts it clears or raises while recovering are notified.
  const notifications = createNotifications(
    { config, farm, bus, logger, clock, metrics, journalPath: join(env.DATA_DIR, 'notifications.db') },
    notificationsOptions(env, config),
  );
  notifications.start();

  const engineFor = (c: { config: FarmConfigT; farm: typeof farm }) =>
    createRulesEngine(
      {
        config: c.config,
        farm: c.farm,
        bus,
        store,
        publish: (topic, payload, opts) => broker.publish(topic, payload, opts),
        logger, // the engine names itself (component: rules)
        clock,
        stateDir: env.DATA_DIR,
        herd,
      },
      { topicRoot: env.MQTT_TOPIC_ROOT },
    );
  const rulesSlot = switchableRules(engineFor(current));
  const rules = rulesSlot.handle;
  countRuleEvents(bus, metrics);
  await rulesSlot.current().start();
  notifications.reconcile(rules.activeAlerts());

  const health = () => healthOf({ store, buffered, brokerClients: broker.connectedClients() });
  const dashboard = createDashboard(
    {
      get config() {
        return current.config;
      },
      get farm() {
        return current.farm;
      },
      bus,
      store,
      rules,
      notifications,
      ingest,
      herd,
      logger: logger.child({ component: 'dashboard' }),
      health,
      metricsText: metricsTextOf(metrics, buffered, () => {
        metrics.socketClients.set(dashboard.stats().liveConnections);
        metrics.devicesOnline.set(ingest.presence().filter((p) => p.status === 'online').length);
      }),
    },
    dashboardOptions(env),
  );
  const { port: httpPort } = await dashboard.start();

  let simulator: { stop(): Promise<unknown> } | undefined;
  if (simulate) {
    const secrets = new Map(farm.devices().map((d) => [d.device, d.config.secret]));
    const runner = createSimulatorRunner({
      farm: config,
      // Over TLS when the plain port is closed: this process talking to itself on loopback, so the certificate
      // (issued for the public host name) is not checked.
      ...(mqttPort !== undefined
        ? { brokerUrl: `mqtt://127.0.0.1:${mqttPort}` }
        : { brokerUrl: `mqtts://127.0.0.1:${mqttTlsPort}`, brokerTls: { rejectUnauthorized: false } }),
      secrets: (id) => secrets.get(id),
      scenario: simulateScenario ?? 'normal-day',
      seed: 1,
      speed: 1,
      topicRoot: env.MQTT_TOPIC_ROOT,
      logger: logger.child({ component: 'simulator' }),
    });
    await runner.start();
    simulator = runner;
  }

  let stopping: Promise<void> | undefined;
  return {
    mqttPort,
    mqttTlsPort,
    httpPort,
    store,
    ingest,
    herd,
    broker,
    bus,
    metrics,
    history: backfilled ? `${backfillDays} days of simulated history filled in at this first start (${backfilled.readings} readings)` : undefined,
    async reloadFarm(next) {
      const changes = farmChanges(current.config, next);
      const before = current;
      current = { config: next, farm: indexFarm(next) };
      const gone = new Set([...changes.devices.removed, ...changes.devices.changed]);
      if (gone.size > 0) broker.disconnectDevices(gone);
      if (changes.farmChanged) {
        await rulesSlot.current().stop();
        const engine = engineFor(current);
        rulesSlot.swap(engine);
        await engine.start();
        notifications.reconcile(engine.activeAlerts());
      }
      logger.info(
        {
          devices: changes.devices,
          users: changes.users,
          sites: changes.sites,
          rulesRestarted: changes.farmChanged,
          before: before.farm.devices().length,
          after: current.farm.devices().length,
        },
        `farm file reloaded: ${describeChanges(changes)}`,
      );
      return changes;
    },
    stop() {
      // Stop taking input first, then let every accepted reading reach the store.
      stopping ??= (async () => {
        await simulator?.stop();
        await dashboard.stop();
        await broker.stop();
        await ingest.stop();
        await rulesSlot.current().stop();
        herd.stop();
        await notifications.stop();
        await store.close();
      })();
      return stopping;
    },
  };
}
