import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerPart } from '../../app/parts/broker.js';
import type { PartHandle } from '../../app/parts/context.js';
import { EVENT_SCHEMAS } from '../../cluster/event-schemas.js';
import { exportEvents, importEvents } from '../../cluster/event-bridge.js';
import { BRIDGED_EVENTS, eventTopic } from '../../cluster/service-topics.js';
import { EnvSettings } from '../../core/config/env.js';
import { loadFarmConfig } from '../../core/config/load.js';
import type { AlertEvent, Reading } from '../../core/domain.js';
import { FarmBus } from '../../core/events.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics } from '../../core/observability.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { DEMO_CONFIG } from '../helpers/service.js';
import { SERVICE_PASSWORD } from './helpers.js';

/** FarmBus events between two processes' buses over the real embedded broker, checked by their schemas. */
describe('the event bridge', () => {
  const root = 'farm';
  let broker: PartHandle;
  let port: number;
  const clients: mqtt.MqttClient[] = [];
  const stops: (() => void)[] = [];
  const producer = new FarmBus();
  const consumer = new FarmBus();
  const metrics = createMetrics();
  const received: { event: string; payload: unknown }[] = [];

  const serviceClient = async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username: 'farm-service',
      password: SERVICE_PASSWORD,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    clients.push(client);
    return client;
  };
  const dropped = async (event: string) =>
    (await metrics.registry.getSingleMetric('farm_cluster_events_dropped_total')!.get()).values.find((v) => v.labels.event === event)?.value ?? 0;

  beforeAll(async () => {
    port = await freePort();
    broker = await startBrokerPart({
      part: 'broker',
      env: EnvSettings.parse({
        MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD,
        MQTT_PORT: String(port),
        MQTT_HOST: '127.0.0.1',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
      }),
      config: loadFarmConfig(DEMO_CONFIG),
      logger: silentLogger(),
      metrics: createMetrics(),
      instance: 'broker-test',
    });
    const logger = silentLogger();
    stops.push(
      exportEvents({ bus: producer, client: await serviceClient(), topicRoot: root, metrics: createMetrics(), logger }, ['reading', 'alert', 'commandOutcome']),
    );
    stops.push(await importEvents({ bus: consumer, client: await serviceClient(), topicRoot: root, metrics, logger }, ['reading', 'alert', 'commandOutcome']));
    consumer.on('reading', (r) => received.push({ event: 'reading', payload: r }));
    consumer.on('alert', (a) => received.push({ event: 'alert', payload: a }));
    consumer.on('commandOutcome', (c) => received.push({ event: 'commandOutcome', payload: c }));
  });

  afterAll(async () => {
    stops.forEach((stop) => stop());
    for (const c of clients) await c.endAsync(true);
    await broker?.stop();
  });

  it('has a schema for every event that crosses processes', () => {
    expect(Object.keys(EVENT_SCHEMAS).sort()).toEqual([...BRIDGED_EVENTS].sort());
  });

  it("carries a reading, alerts (with raisedAt and a built-in alert's detail) and a command outcome exactly as emitted", async () => {
    const reading: Reading = { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', ts: 1_000, metrics: { nh3: 12.5 } };
    const alert: AlertEvent = {
      id: 'a-1',
      rule: 'shed-ammonia',
      site: 'huyang',
      zone: 'shed-1',
      device: 'shed-1-env',
      severity: 'warning',
      level: null,
      state: 'raised',
      value: 27,
      metric: 'nh3',
      message: 'Ammonia 27 ppm',
      ts: 2_000,
    };
    // A built-in alert keeps when it was raised and the facts a screen writes its text from (the dashboard in
    // another process tells "not responding" in Chinese from them); a command's retries and failure cross too.
    const failed: AlertEvent = {
      ...alert,
      id: 'a-2',
      rule: 'system:actuator',
      device: 'shed-1-fan',
      severity: 'critical',
      value: null,
      metric: null,
      state: 'acknowledged',
      by: 'ops',
      message: 'actuator not responding',
      ts: 2_500,
      raisedAt: 2_100,
      detail: { kind: 'actuator', action: 'set', value: 60, attempts: 3 },
    };
    const outcome = {
      site: 'huyang',
      zone: 'shed-1',
      kind: 'shed' as const,
      device: 'shed-1-fan',
      command: { id: 'c-1', action: 'on' as const, reason: 'rule:shed-ammonia', ts: 1_500 },
      outcome: 'failed' as const,
      attempt: 3,
      attempts: 3,
      ts: 2_100,
    };
    producer.emit('reading', reading);
    producer.emit('alert', alert);
    producer.emit('alert', failed);
    producer.emit('commandOutcome', outcome);
    await waitFor(() => received.length >= 4 || undefined, 'the four events');
    // Different topics: MQTT orders each topic's messages, not messages across topics.
    expect(received).toHaveLength(4);
    expect(received).toEqual(
      expect.arrayContaining([
        { event: 'reading', payload: reading },
        { event: 'alert', payload: alert },
        { event: 'alert', payload: failed },
        { event: 'commandOutcome', payload: outcome },
      ]),
    );
  });

  it('drops and counts a bridged event that is not JSON or not in its shape; the next good one still arrives', async () => {
    received.length = 0;
    const rogue = await serviceClient();
    const where = { site: 'huyang', zone: 'shed-1', device: 'shed-1-env' };
    await rogue.publishAsync(eventTopic(root, 'reading', where), '{"site": "huyang", oops', { qos: 1 });
    await rogue.publishAsync(
      eventTopic(root, 'reading', where),
      JSON.stringify({ site: 'huyang', zone: 'shed-1', kind: 'barn', device: 'shed-1-env', ts: 'soon', metrics: { nh3: 'high' } }),
      { qos: 1 },
    );
    await rogue.publishAsync(eventTopic(root, 'alert', where), JSON.stringify({ id: 'a-2', site: 'huyang', state: 'raised' }), { qos: 1 });
    // The marker: a good reading sent after them over the same connection.
    const good: Reading = { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', ts: 3_000, metrics: { nh3: 9 } };
    await rogue.publishAsync(eventTopic(root, 'reading', where), JSON.stringify(good), { qos: 1 });
    await waitFor(() => received.length >= 1 || undefined, 'the good reading');
    expect(received).toEqual([{ event: 'reading', payload: good }]);
    expect(await dropped('reading')).toBe(2);
    expect(await dropped('alert')).toBe(1);
  });
});
