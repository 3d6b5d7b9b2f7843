import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadEnvSettings, loadFarmConfig } from '../core/config/load.js';
import type { FarmConfigT } from '../core/config/schema.js';
import { createLogger } from '../core/logger.js';
import { createMetrics } from '../core/observability.js';
import { ClusterError } from '../cluster/errors.js';
import { StoreError } from '../store/store.js';
import { instanceId } from './parts/context.js';
import { parsePart, startPart } from './parts/index.js';
import { startService } from './service.js';
import { readyLine } from './ready-line.js';

/**
 * `npm start`: broker, ingest, rules and dashboard in one process (SPEC "Commands a user types").
 * `npm start -- --only broker|ingest|rules|dashboard|simulate`: that one component, talking to the others
 * over the broker at MQTT_URL (cluster/README.md).
 */
const DEMO_FARM = resolve('config/demo-farm.yaml');
const SHUTDOWN_LIMIT_MS = 15_000;

function plainSecretWarnings(config: FarmConfigT): string[] {
  const warnings: string[] = [];
  for (const site of config.sites)
    for (const zone of site.zones)
      for (const d of zone.devices) {
        if (d.secret) warnings.push(`device ${d.id} has a plain-text secret: use secretHash (npm run provision) outside development`);
        else if (!d.secretHash) warnings.push(`device ${d.id} has no secret and cannot connect: provision it with npm run provision`);
      }
  for (const u of config.users) if (u.password) warnings.push(`user ${u.name} has a plain-text password: use passwordHash (npm run provision -- --user ${u.name}) outside development`);
  return warnings;
}

function onlyArgument(): string | undefined {
  try {
    return parseArgs({ args: process.argv.slice(2), options: { only: { type: 'string' } }, strict: true }).values.only;
  } catch (err) {
    throw new ClusterError('BAD_PART', `${(err as Error).message}. Usage: npm start [-- --only broker|ingest|rules|dashboard|simulate]`);
  }
}

async function main() {
  const only = onlyArgument();
  const part = only === undefined ? undefined : parsePart(only);
  const env = loadEnvSettings();
  const logger = createLogger(env.LOG_LEVEL, part ? `farm-${part}` : 'farm');
  const configPath = resolve(env.FARM_CONFIG);
  const config = loadFarmConfig(configPath);
  for (const warning of plainSecretWarnings(config)) logger.warn(warning);

  let service: { stop(): Promise<void> };
  if (part) {
    const instance = instanceId(part, env);
    logger.info({ config: configPath, part, instance }, 'starting one component');
    const handle = await startPart({ part, env, config, logger, metrics: createMetrics(), instance });
    logger.info(handle.ready, `ready: ${part}${typeof handle.ready.message === 'string' ? ` (${handle.ready.message})` : ''}`);
    service = handle;
  } else {
    const simulate = env.SIMULATE ?? configPath === DEMO_FARM;
    logger.info({ config: configPath, simulate }, 'starting');
    const all = await startService({ env, config, logger, simulate });
    logger.info({ mqtt: all.mqttPort, mqttTls: all.mqttTlsPort, http: all.httpPort }, readyLine({ ...all, https: Boolean(env.TLS_CERT && env.TLS_KEY) }));
    service = all;
  }

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: flushing readings to the store');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    timer.unref();
    service.stop().then(
      () => {
        logger.info('stopped cleanly');
        logger.flush?.();
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof StoreError || err instanceof ClusterError) {
    process.stderr.write(`\n${err.message}\n\n`);
    process.exit(2);
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') {
    process.stderr.write(`\nA port is already in use (${e.message}): stop the other process or set MQTT_PORT / HTTP_PORT.\n\n`);
    process.exit(2);
  }
  process.stderr.write(`\nUnexpected start-up failure: ${e?.stack ?? String(err)}\nPlease report it with the lines above.\n`);
  process.exit(1);
});
