import { createBroker } from '../../broker/broker.js';
import { loadFarmConfig } from '../../core/config/load.js';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics } from '../../core/observability.js';

/**
 * The embedded broker alone, for the raw fan-in reference: the service's own createBroker (aedes with the same
 * authentication and topic policy), but nothing attached behind it: no ingest, store, rules or dashboard.
 * Prints one JSON line {"ready":true,"port":…} when it listens; SIGTERM stops it. MQTT_RATE_LIMIT / MQTT_RATE_BURST
 * as for the service (defaults 200 / 2000; the capacity runs lift them).
 */
const farm = indexFarm(loadFarmConfig(process.env.FARM_CONFIG!));
const broker = await createBroker(
  { farm: () => farm, logger: silentLogger(), metrics: createMetrics(), service: { username: 'farm-service', password: process.env.MQTT_SERVICE_PASSWORD } },
  {
    port: Number(process.env.MQTT_PORT),
    host: '127.0.0.1',
    topicRoot: 'farm',
    maxMessagesPerSecond: Number(process.env.MQTT_RATE_LIMIT ?? 200),
    burst: Number(process.env.MQTT_RATE_BURST ?? 2000),
  },
);
const { port } = await broker.start();
process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
process.once('SIGTERM', () => void broker.stop().then(() => process.exit(0)));
