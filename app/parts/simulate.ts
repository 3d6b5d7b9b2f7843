import { indexFarm } from '../../core/farm-index.js';
import { createSimulatorRunner } from '../../simulators/runner.js';
import { metricsTextOf, type PartContext, type PartHandle } from './context.js';
import { startOpsServer } from './ops-server.js';

/**
 * `--only simulate`: the simulated farm as real MQTT devices against MQTT_URL (or the embedded broker's port on
 * this host), each logging in with its own plain development secret from the farm file. Like every other part it
 * serves /health and /metrics on HTTP_PORT: /health says how many devices are connected and is `degraded` while
 * some that have a secret are not.
 */
export async function startSimulatePart(ctx: PartContext): Promise<PartHandle> {
  const { env, logger } = ctx;
  const secrets = new Map(
    indexFarm(ctx.config)
      .devices()
      .map((d) => [d.device, d.config.secret]),
  );
  const brokerUrl = env.MQTT_URL ?? `mqtt://127.0.0.1:${env.MQTT_PORT}`;
  const runner = createSimulatorRunner({
    farm: ctx.config,
    brokerUrl,
    secrets: (id) => secrets.get(id),
    scenario: 'normal-day',
    seed: 1,
    speed: 1,
    topicRoot: env.MQTT_TOPIC_ROOT,
    logger: logger.child({ component: 'simulator' }),
  });
  await runner.start();
  const ops = await startOpsServer({
    port: env.HTTP_PORT,
    host: env.HTTP_HOST,
    metricsText: metricsTextOf(ctx.metrics),
    health: async () => {
      const s = runner.stats();
      const expected = s.devices - s.skipped;
      const checks = {
        broker: brokerUrl,
        devices: s.devices,
        connected: s.connected,
        skipped: s.skipped,
        sent: s.sent,
        errors: s.errors,
        lastError: s.lastError ?? null,
      };
      return { status: s.connected === expected ? 'ok' : s.connected === 0 ? 'down' : 'degraded', checks };
    },
  });
  return {
    ready: { part: 'simulate', broker: brokerUrl, http: ops.port, devices: runner.stats().devices, skipped: runner.stats().skipped },
    async stop() {
      await runner.stop();
      await ops.stop();
    },
  };
}
