import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFarmConfig } from '../../core/config/load.js';
import type { Reading } from '../../core/domain.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics } from '../../core/observability.js';
import { createIngest } from '../../ingest/ingest.js';
import { createBufferedStore } from '../../store/buffered-store.js';
import { createInfluxStore } from '../../store/influx-store.js';
import { createOutbox } from '../../store/outbox.js';
import { influxql, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { DEMO_CONFIG, SHED1_ENV } from '../helpers/service.js';

/**
 * A device resends readings after a restart of the service while InfluxDB is down (its PUBACKs were lost with the
 * old process). The readings wait in the outbox, InfluxDB cannot be asked whether it has them: they must still be
 * known as accepted, acknowledged, and not passed on to the rules and screens a second time. Real influxd (stopped
 * for the outage), real outbox on disk, ingest as the service wires it.
 */
const logger = silentLogger();
const farm = indexFarm(loadFarmConfig(DEMO_CONFIG));
const base = Date.now() - 60_000;
const payload = (i: number) => Buffer.from(JSON.stringify({ ts: base + i * 1000, metrics: { temperature: 20 + i, humidity: 60 } }));

describe('a replay across a restart while InfluxDB is down', () => {
  let influxd: Influxd;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  async function start(dataDir: string) {
    const influx = createInfluxStore({ kind: 'influx-v1', url: influxd.url, database: 'replay_outage', timeoutMs: 2000 }, { logger });
    const store = createBufferedStore(influx, createOutbox({ dataDir, logger }), {
      logger,
      retryMinMs: 50,
      retryMaxMs: 200,
      startFlushMs: 500,
      lines: influx.readingLines,
    });
    await store.init();
    const bus = new FarmBus();
    const passedOn: Reading[] = [];
    bus.on('reading', (r) => passedOn.push(r));
    const ingest = createIngest(
      { farm: () => farm, store, bus, logger, metrics: createMetrics() },
      { topicRoot: 'farm', maxPayloadBytes: 65536, maxFutureMs: 300_000, maxPastMs: 86_400_000, batchSize: 50, batchIntervalMs: 5, rejectsKept: 10 },
    );
    return {
      store,
      ingest,
      passedOn,
      async stop() {
        await ingest.stop();
        await store.close();
      },
    };
  }

  it('knows the readings still in the outbox: acknowledged, counted as duplicates, passed on once; InfluxDB gets each once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'farm-replay-outage-'));
    try {
      await influxd.pause();
      const before = await start(dataDir);
      for (let i = 0; i < 5; i++) await before.ingest.handleMessage(SHED1_ENV.topic, payload(i), SHED1_ENV.id);
      expect(before.passedOn.map((r) => r.ts)).toEqual([0, 1, 2, 3, 4].map((i) => base + i * 1000));
      expect(before.store.stats().outboxDepth).toBe(5);
      await before.stop();

      // The restart, InfluxDB still down; the device sends its five again (never acknowledged), then a new one.
      const after = await start(dataDir);
      for (let i = 0; i < 6; i++) await after.ingest.handleMessage(SHED1_ENV.topic, payload(i), SHED1_ENV.id);
      expect(after.ingest.stats()).toMatchObject({ accepted: 1, duplicates: 10 }); // 5 readings × 2 metrics
      expect(after.passedOn.map((r) => r.ts)).toEqual([base + 5000]);

      await influxd.resume();
      await after.store.flush(30_000);
      const [result] = await influxql(influxd.url, 'SELECT count("temperature") FROM "telemetry"', { db: 'replay_outage' });
      expect(result.series?.[0].values[0][1]).toBe(6);
      await after.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
