import type { Logger } from 'pino';
import type { ZoneKind } from '../core/domain.js';
import { deviceTopic } from '../core/topics.js';
import { createDeviceClient, type DeviceClient } from './device-client.js';
import { createRng } from './models/rng.js';

/**
 * Load mode for benchmarks: N devices, each its own authenticated MQTT connection, publishing valid
 * telemetry at a fixed total rate. Bounded: it stops by itself after `durationSec` (or `maxMessages`).
 */
export interface LoadDevice {
  device: string;
  site: string;
  zone: string;
  kind?: ZoneKind;
  password: string;
}

export interface LoadRunnerOptions {
  brokerUrl: string;
  devices: number;
  /** Telemetry messages per second, summed over all devices. */
  ratePerSec: number;
  credentials: (index: number) => LoadDevice;
  qos?: 0 | 1;
  /** Wall-clock seconds of publishing after the devices connected (default 60). */
  durationSec?: number;
  maxMessages?: number;
  topicRoot?: string;
  /** Connections opened at the same time while ramping up (default 200). */
  connectConcurrency?: number;
  /** How long to wait for all devices to connect before publishing anyway, ms (default 120 s). */
  connectTimeoutMs?: number;
  seed?: number;
  logger?: Logger;
  onProgress?: (stats: LoadStats) => void;
  progressEveryMs?: number;
}

export interface LoadStats {
  devices: number;
  connected: number;
  connectFailures: number;
  sent: number;
  errors: number;
  ratePerSec: number;
  /** Time until every device connected (or gave up), ms. */
  connectMs: number;
  publishMs: number;
  finished: boolean;
  lastError?: string;
}

export interface LoadRunner {
  start(): Promise<void>;
  stop(): Promise<LoadStats>;
  stats(): LoadStats;
  readonly done: Promise<LoadStats>;
}

export const MAX_LOAD_DEVICES = 10_000;

function metricsFor(kind: ZoneKind | undefined, rng: ReturnType<typeof createRng>): Record<string, number> {
  const t = Math.round((22 + rng.gaussian(0, 2)) * 10) / 10;
  if (kind === 'drain') return { water_level: Math.round(rng.uniform(0.1, 0.6) * 1000) / 1000, fill: Math.round(rng.uniform(10, 60) * 10) / 10 };
  if (kind === 'field') return { temperature: t, soil_moisture: Math.round(rng.uniform(18, 35) * 10) / 10 };
  return { temperature: t, humidity: Math.round(rng.uniform(50, 80) * 10) / 10, nh3: Math.round(rng.uniform(2, 12) * 10) / 10 };
}

export function createLoadRunner(o: LoadRunnerOptions): LoadRunner {
  if (!Number.isInteger(o.devices) || o.devices < 1 || o.devices > MAX_LOAD_DEVICES)
    throw new RangeError(`load mode takes 1 to ${MAX_LOAD_DEVICES} devices, got ${o.devices}`);
  if (!(o.ratePerSec > 0)) throw new RangeError(`load rate must be a positive number of messages per second, got ${o.ratePerSec}`);
  const root = o.topicRoot ?? 'farm';
  const rng = createRng(o.seed ?? 1);
  const devices = Array.from({ length: o.devices }, (_, i) => o.credentials(i));
  const clients: DeviceClient[] = [];
  const s: LoadStats = { devices: o.devices, connected: 0, connectFailures: 0, sent: 0, errors: 0, ratePerSec: 0, connectMs: 0, publishMs: 0, finished: false };
  let publishStart = 0;
  let timer: NodeJS.Timeout | undefined;
  let progress: NodeJS.Timeout | undefined;
  let stopping: Promise<LoadStats> | undefined;
  let attempted = 0;
  let lastSent = 0;
  let lastAt = 0;
  let resolveDone!: (stats: LoadStats) => void;
  const done = new Promise<LoadStats>((resolve) => (resolveDone = resolve));

  const snapshot = (): LoadStats => {
    s.connected = clients.filter((c) => c.connected()).length;
    s.publishMs = publishStart ? Date.now() - publishStart : 0;
    return { ...s };
  };
  const reportProgress = () => {
    const now = Date.now();
    s.ratePerSec = (s.sent - lastSent) / Math.max(0.001, (now - lastAt) / 1000);
    lastSent = s.sent;
    lastAt = now;
    o.onProgress?.(snapshot());
  };

  /** Opens connections `connectConcurrency` at a time; each settles on CONNACK or on its first error. */
  async function connectAll(): Promise<void> {
    const startedAt = Date.now();
    const deadline = startedAt + (o.connectTimeoutMs ?? 120_000);
    const concurrency = o.connectConcurrency ?? 200;
    let next = 0;
    const worker = async () => {
      while (next < devices.length && Date.now() < deadline && !stopping) {
        const d = devices[next++];
        attempted++;
        await new Promise<void>((resolve) => {
          const giveUp = setTimeout(() => settle(), Math.max(0, deadline - Date.now()));
          const settle = () => {
            clearTimeout(giveUp);
            resolve();
          };
          const client = createDeviceClient({
            brokerUrl: o.brokerUrl,
            device: d.device,
            password: d.password,
            statusTopic: deviceTopic(root, d, 'status'),
            reconnectPeriodMs: 5000,
            connectTimeoutMs: 30_000,
            onConnect: () => settle(),
            onError: (err) => {
              s.errors++;
              s.connectFailures++;
              s.lastError = `${d.device}: ${err.message}`;
              settle();
            },
          });
          clients.push(client);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
    s.connectMs = Date.now() - startedAt;
  }

  function startPublishing(): void {
    const everyMs = 20;
    const durationMs = (o.durationSec ?? 60) * 1000;
    let owed = 0;
    let cursor = 0;
    let last = Date.now();
    publishStart = last;
    timer = setInterval(() => {
      const now = Date.now();
      owed += ((now - last) / 1000) * o.ratePerSec;
      last = now;
      let budget = Math.floor(owed);
      owed -= budget;
      for (let tries = 0; budget > 0 && tries < clients.length * 2; tries++) {
        const i = cursor++ % clients.length;
        const client = clients[i];
        if (!client.connected()) continue;
        budget--;
        const d = devices[i];
        const payload = JSON.stringify({ ts: now, metrics: metricsFor(d.kind, rng) });
        client.publish(deviceTopic(root, d, 'telemetry'), payload, { qos: o.qos ?? 0 }).then(
          () => void s.sent++,
          (err: Error) => {
            s.errors++;
            s.lastError = `${d.device}: ${err.message}`;
          },
        );
      }
      if (now - publishStart >= durationMs || (o.maxMessages !== undefined && s.sent >= o.maxMessages)) {
        s.finished = true;
        void stop();
      }
    }, everyMs);
  }

  async function start(): Promise<void> {
    lastAt = Date.now();
    progress = setInterval(reportProgress, o.progressEveryMs ?? 1000);
    await connectAll();
    o.logger?.info({ connected: snapshot().connected, devices: o.devices, attempted, connectMs: s.connectMs }, 'load devices connected');
    if (!stopping) startPublishing();
  }

  function stop(): Promise<LoadStats> {
    stopping ??= (async () => {
      clearInterval(timer);
      const finalPublishMs = publishStart ? Date.now() - publishStart : 0;
      // Let QoS 1 acknowledgements arrive, then say goodbye in batches so the broker is not flooded.
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < clients.length; i += 500) await Promise.all(clients.slice(i, i + 500).map((c) => c.close(2000)));
      clearInterval(progress);
      reportProgress();
      const final = { ...snapshot(), connected: 0, publishMs: finalPublishMs, ratePerSec: finalPublishMs ? s.sent / (finalPublishMs / 1000) : 0 };
      resolveDone(final);
      return final;
    })();
    return stopping;
  }

  return { start, stop, stats: snapshot, done };
}
