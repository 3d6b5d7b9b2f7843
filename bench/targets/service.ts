import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/ports.js';
import { startNodeProcess, startScriptNodeFlags, waitUntil, type NodeProcess } from './process.js';

/**
 * The whole service exactly as `npm start` runs it (app/main.ts with the start script's node flags: broker, ingest, store, rules, dashboard),
 * configured through the environment: a bench farm file, a fresh DATA_DIR, free ports on 127.0.0.1, and
 * INFLUX_URL when the run stores into InfluxDB.
 */
export interface ServiceUnderTest {
  readonly pid: number;
  readonly mqttPort: number;
  readonly httpPort: number;
  readonly url: string;
  readonly proc: NodeProcess;
  health(): Promise<{ status: string; checks: Record<string, unknown> }>;
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  farmPath: string;
  dataDir: string;
  influx?: { url: string; database: string };
  profileDir?: string;
  env?: Record<string, string>;
  /** Node flags added to the start script's (e.g. the memory benchmark's forced collection, bench/probes/heap-after-gc.mjs). */
  extraNodeFlags?: string[];
}

export const SERVICE_PASSWORD = 'bench-only-service-password';

export async function startService(o: ServiceOptions): Promise<ServiceUnderTest> {
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const env: Record<string, string> = {
    FARM_CONFIG: o.farmPath,
    DATA_DIR: o.dataDir,
    MQTT_PORT: String(mqttPort),
    HTTP_PORT: String(httpPort),
    MQTT_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    SIMULATE: 'false',
    // warn would print one line per plain-text bench secret (thousands of devices).
    LOG_LEVEL: 'error',
    MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD,
    ...(o.influx ? { INFLUX_URL: o.influx.url, INFLUX_DATABASE: o.influx.database } : {}),
    ...o.env,
  };
  const spawnedAt = Date.now();
  const proc = startNodeProcess('app/main.ts', env, { profileDir: o.profileDir, nodeFlags: [...startScriptNodeFlags(), ...(o.extraNodeFlags ?? [])] });
  const url = `http://127.0.0.1:${httpPort}`;
  const health = async () => {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
    return (await res.json()) as { status: string; checks: Record<string, unknown> };
  };
  try {
    await waitUntil(
      async () => ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined),
      'the service to answer /health',
      180_000,
      200,
      proc,
    );
  } catch (err) {
    await proc.stop(5000);
    throw err;
  }
  const readyAt = Date.now();
  return {
    pid: proc.pid,
    mqttPort,
    httpPort,
    url,
    proc,
    health,
    async metricsText() {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
      return res.text();
    },
    async stop() {
      // The profile should show the steady state: samples from "ready" to "asked to stop" (bench/profile.ts).
      if (o.profileDir) writeFileSync(join(o.profileDir, 'window.json'), JSON.stringify({ fromMs: readyAt - spawnedAt, toMs: Date.now() - spawnedAt }));
      const exit = await proc.stop(60_000);
      if (exit.code !== 0) process.stderr.write(`\n  note: the service exited with ${exit.code ?? exit.signal}; last output:\n${proc.output().slice(-1500)}\n`);
    },
  };
}

/** Sums a Prometheus counter over its labels (e.g. farm_readings_rejected_total). */
export function counterTotal(metricsText: string, name: string): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}
