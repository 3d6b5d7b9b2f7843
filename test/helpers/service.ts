import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type ServiceHandle } from '../../app/service.js';
import { EnvSettings, type EnvSettingsT } from '../../core/config/env.js';
import { loadFarmConfig } from '../../core/config/load.js';
import type { FarmConfigT } from '../../core/config/schema.js';
import { createLogger } from '../../core/logger.js';
import type { Clock } from '../../rules/clock.js';

export const DEMO_CONFIG = 'config/demo-farm.yaml';

/** The whole service in this process on free ports, with a temporary DATA_DIR removed afterwards. */
export async function startTestService(
  opts: { env?: Record<string, string>; config?: FarmConfigT; dataDir?: string; clock?: Clock } = {},
): Promise<Omit<ServiceHandle, 'mqttPort'> & { mqttPort: number; env: EnvSettingsT; dataDir: string; cleanup(): Promise<void> }> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'farm-test-'));
  const env = EnvSettings.parse({
    DATA_DIR: dataDir,
    MQTT_PORT: '0',
    HTTP_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    BATCH_INTERVAL: '20ms',
    ...opts.env,
  });
  const config = opts.config ?? loadFarmConfig(DEMO_CONFIG);
  const service = await startService({ env, config, logger: createLogger(env.LOG_LEVEL), simulate: false, clock: opts.clock });
  return {
    ...service,
    // Tests of a service without a plain MQTT port (MQTT_PLAINTEXT=false) use mqttTlsPort; NaN fails loudly elsewhere.
    mqttPort: service.mqttPort ?? Number.NaN,
    env,
    dataDir,
    async cleanup() {
      await service.stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const SHED1_ENV = { id: 'shed-1-env', secret: 'dev-only-shed-1-env', topic: 'farm/huyang/shed-1/shed-1-env/telemetry' };
export const SHED2_ENV = { id: 'shed-2-env', secret: 'dev-only-shed-2-env', topic: 'farm/huyang/shed-2/shed-2-env/telemetry' };
export const SHED1_FAN = {
  id: 'shed-1-fan',
  secret: 'dev-only-shed-1-fan',
  cmd: 'farm/huyang/shed-1/shed-1-fan/cmd',
  state: 'farm/huyang/shed-1/shed-1-fan/state',
};
export const PIPE1 = { id: 'pipe-01-level', secret: 'dev-only-pipe-01-level', topic: 'farm/xihu-drain/pipe-01/pipe-01-level/telemetry' };
