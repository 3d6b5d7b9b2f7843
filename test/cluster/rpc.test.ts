import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerPart } from '../../app/parts/broker.js';
import type { PartHandle } from '../../app/parts/context.js';
import { createRemoteRules, reviveRulesError } from '../../cluster/remote-rules.js';
import { serveRules } from '../../cluster/rules-server.js';
import { createRpcClient } from '../../cluster/rpc.js';
import { replyTopic, rulesRequestTopic } from '../../cluster/service-topics.js';
import { EnvSettings } from '../../core/config/env.js';
import { loadFarmConfig } from '../../core/config/load.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics } from '../../core/observability.js';
import { ActuatorError, type RulesHandle } from '../../rules/handle.js';
import { freePort } from '../helpers/ports.js';
import { DEMO_CONFIG } from '../helpers/service.js';
import { farm, harness, type Harness } from '../rules/helpers.js';
import { SERVICE_PASSWORD } from './helpers.js';

/**
 * The rules API between processes over the real embedded broker: a real rules engine (the rules tests' harness,
 * with its fake clock) served by serveRules, called through the dashboard's RulesHandle (createRemoteRules).
 */
describe('the rules API over MQTT request/response', () => {
  const root = 'farm';
  let broker: PartHandle;
  let h: Harness;
  let remote: RulesHandle;
  let port: number;
  const clients: mqtt.MqttClient[] = [];
  const stops: (() => void)[] = [];

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
    h = harness([]);
    await h.engine.start();
    const server = serveRules(await serviceClient(), root, 'rules-1', h.engine, silentLogger());
    await server.start();
    stops.push(() => server.stop());
    const rpc = createRpcClient({
      client: await serviceClient(),
      protocolVersion: 4,
      replyTopic: replyTopic(root, 'dash'),
      timeoutMs: 10_000,
      logger: silentLogger(),
      revive: reviveRulesError,
    });
    await rpc.start();
    stops.push(() => rpc.stop());
    const members = { start: async () => {}, stop: () => {}, members: () => [{ instance: 'rules-1', sites: ['huyang', 'city'], startedAt: 0 }] };
    remote = createRemoteRules({ rpc, members, farm, topicRoot: root, metrics: createMetrics() });
  });

  afterAll(async () => {
    stops.forEach((stop) => stop());
    await h?.engine.stop();
    for (const c of clients) await c.endAsync(true);
    await broker?.stop();
  });

  it('carries a command with its optional arguments left out, and answers with the engine outcome', async () => {
    const outcome = await remote.command('shed-1-fan', 'on', undefined, 'otto');
    expect(outcome.command).toMatchObject({ action: 'on', reason: 'manual:otto' });
    expect(h.commands('shed-1-fan').map((c: { id: string }) => c.id)).toEqual([outcome.command.id]);
    expect(outcome.hold).toMatchObject({ user: 'otto' });
    const views = await remote.actuators();
    expect(views.find((v) => v.device === 'shed-1-fan')?.holders.map((x) => x.kind)).toContain('operator');
  });

  it("turns the engine's typed error back into the same error for the dashboard", async () => {
    const err = await Promise.resolve(remote.setMode('shed-1-env', 'manual', undefined, 'otto')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActuatorError);
    expect(err).toMatchObject({ code: 'NOT_ACTUATOR' });
  });

  it('refuses a request whose arguments do not fit the method, naming the argument; the engine is not called', async () => {
    const raw = createRpcClient({
      client: await serviceClient(),
      protocolVersion: 4,
      replyTopic: replyTopic(root, 'raw'),
      timeoutMs: 10_000,
      logger: silentLogger(),
    });
    await raw.start();
    stops.push(() => raw.stop());
    const before = h.commands().length;
    const bad = await raw.call(rulesRequestTopic(root, 'rules-1'), 'command', ['shed-1-fan', 'explode', null, 'otto'], 'rules-1').catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/"command" was called with[\s\S]*\[1\]/) });
    const unknown = await raw.call(rulesRequestTopic(root, 'rules-1'), 'dropTables', [], 'rules-1').catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'BAD_REQUEST', message: 'no method "dropTables"' });
    expect(h.commands()).toHaveLength(before);
  });
});
