import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadEnvSettings, loadFarmConfig } from '../core/config/load.js';
import type { FarmConfigT } from '../core/config/schema.js';
import { createLogger, type Logger } from '../core/logger.js';
import { createMetrics } from '../core/observability.js';
import { ClusterError } from '../cluster/errors.js';
import { StoreError } from '../store/store.js';
import { instanceId } from './parts/context.js';
import { parsePart, startPart } from './parts/index.js';
import { startService } from './service.js';
import { readyLine } from './ready-line.js';
import { createFarmReloader } from './reload.js';
import { bannerLines, developmentLogins, developmentSecrets, developmentSecretsWarning, unusableDevicesWarning } from './first-run.js';

/**
 * `npm start`: broker, ingest, rules and dashboard in one process (SPEC "Commands a user types").
 * `npm start -- --only broker|ingest|rules|dashboard|simulate`: that one component, talking to the others
 * over the broker at MQTT_URL (cluster/README.md).
 */
const DEMO_FARM = resolve('config/demo-farm.yaml');
const SHUTDOWN_LIMIT_MS = 15_000;

/** One warning for all plain-text secrets (the JSON line's `devices` names each), one for devices that cannot connect. */
function warnAboutSecrets(config: FarmConfigT, logger: Logger): void {
  const secrets = developmentSecrets(config);
  const plain = developmentSecretsWarning(secrets);
  if (plain) logger.warn({ devices: secrets.devices, users: secrets.users }, plain);
  const unusable = unusableDevicesWarning(secrets);
  if (unusable) logger.warn({ devices: secrets.unusable }, unusable);
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
  // A person at a terminal reads lines; a log collector reads JSON.
  const terminal = process.stdout.isTTY === true;
  const logger = createLogger(env.LOG_LEVEL, part ? `farm-${part}` : 'farm', { pretty: terminal });
  const configPath = resolve(env.FARM_CONFIG);
  const config = loadFarmConfig(configPath);
  warnAboutSecrets(config, logger);

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
    // The demo farm's first start fills in a simulated week, so the first screen has history; never a user's farm.
    const all = await startService({ env, config, logger, simulate, backfillDays: simulate && configPath === DEMO_FARM ? 7 : undefined });
    const https = Boolean(env.TLS_CERT && env.TLS_KEY);
    const logins = developmentLogins(config);
    logger.info({ mqtt: all.mqttPort, mqttTls: all.mqttTlsPort, http: all.httpPort, logins: logins.map((l) => l.name) }, readyLine({ ...all, https }));
    if (terminal) {
      const mqtt = [
        all.mqttPort !== undefined ? `localhost:${all.mqttPort}` : undefined,
        all.mqttTlsPort !== undefined ? `localhost:${all.mqttTlsPort} (TLS)` : undefined,
      ]
        .filter(Boolean)
        .join(', ');
      const devices = config.sites.reduce((n, s) => n + s.zones.reduce((m, z) => m + z.devices.length, 0), 0);
      const lines = bannerLines({
        dashboardUrl: `${https ? 'https' : 'http'}://localhost:${all.httpPort}`,
        mqtt,
        configPath: relative(process.cwd(), configPath) || configPath,
        sites: config.sites.length,
        devices,
        simulated: simulate,
        logins,
        history: all.history,
      });
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    const reloader = createFarmReloader({ path: configPath, logger, apply: (next) => all.reloadFarm(next) });
    service = {
      stop: () => {
        reloader.stop();
        return all.stop();
      },
    };
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
