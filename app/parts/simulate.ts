import { indexFarm } from '../../core/farm-index.js';
import { createSimulatorRunner } from '../../simulators/runner.js';
import type { PartContext, PartHandle } from './context.js';

/**
 * `--only simulate`: the simulated farm as real MQTT devices against MQTT_URL (or the embedded broker's port on
 * this host), each logging in with its own plain development secret from the farm file.
 */
export async function startSimulatePart(ctx: PartContext): Promise<PartHandle> {
  const { env, logger } = ctx;
  const secrets = new Map(indexFarm(ctx.config).devices().map((d) => [d.device, d.config.secret]));
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
  return {
    ready: { part: 'simulate', broker: brokerUrl, devices: runner.stats().devices, skipped: runner.stats().skipped },
    async stop() {
      await runner.stop();
    },
  };
}
