import { createBroker } from '../../broker/broker.js';
import { brokerOptions } from '../options.js';
import { indexFarm } from '../../core/farm-index.js';
import { metricsTextOf, type PartContext, type PartHandle } from './context.js';
import { startOpsServer } from './ops-server.js';

/**
 * `--only broker`: the embedded aedes broker on its own, with the same authentication and device access
 * control as in one process, passing device messages on to subscribers (the ingest process). aedes speaks
 * MQTT 3.1.1 only and has no shared subscriptions: run exactly one ingest process against it
 * (cluster/README.md). Rejected publishes are counted on this process's /metrics.
 */
export async function startBrokerPart(ctx: PartContext): Promise<PartHandle> {
  const { env, logger, metrics } = ctx;
  const farm = indexFarm(ctx.config);
  const broker = await createBroker(
    {
      farm: () => farm,
      logger: logger.child({ component: 'broker' }),
      metrics,
      service: { username: env.MQTT_SERVICE_USERNAME, password: env.MQTT_SERVICE_PASSWORD },
      onReject: (reason) => metrics.rejected.inc({ reason }),
    },
    brokerOptions(env),
  );
  const { port, tlsPort } = await broker.start();
  if (!env.MQTT_SERVICE_PASSWORD) logger.warn('MQTT_SERVICE_PASSWORD is not set: no ingest, rules or dashboard process can log in to this broker');
  const ops = await startOpsServer({
    port: env.HTTP_PORT,
    host: env.HTTP_HOST,
    metricsText: metricsTextOf(metrics),
    health: async () => ({ status: 'ok', checks: { mqttClients: broker.connectedClients() } }),
  });
  return {
    ready: {
      part: 'broker',
      mqtt: port,
      mqttTls: tlsPort,
      http: ops.port,
      message: [port !== undefined ? `MQTT broker on port ${port}` : undefined, tlsPort !== undefined ? `MQTT over TLS on port ${tlsPort}` : undefined]
        .filter(Boolean)
        .join(', '),
    },
    async stop() {
      await ops.stop();
      await broker.stop();
    },
  };
}
