import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreChoice } from '../../core/config/env.js';
import { silentLogger } from '../../core/logger.js';
import { createInfluxStore } from '../../store/influx-store.js';
import type { Store } from '../../store/store.js';
import { influxql, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { BASE, describeStoreContract, reading } from './contract.js';

/** The InfluxDB store against a real InfluxDB 1.x server (Debian's influxd), one fresh database per test. */
const logger = silentLogger();
let influxd: Influxd;
let databases = 0;

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

function choice(database: string): StoreChoice {
  return { kind: 'influx-v1', url: influxd.url, database, timeoutMs: 10_000 };
}

async function openStore(database: string): Promise<Store> {
  const store = createInfluxStore(choice(database), { logger });
  await store.init();
  return store;
}

describeStoreContract('InfluxDB 1.x', async () => {
  const database = `contract_${++databases}`;
  const sut = {
    store: await openStore(database),
    reopen: () => openStore(database),
    async cleanup() {
      await sut.store.close();
      await influxql(influxd.url, `DROP DATABASE "${database}"`);
    },
  };
  return sut;
});

describe('InfluxDB schema', () => {
  it('stores readings as telemetry with site/zone/kind/device tags and one float field per metric', async () => {
    const store = await openStore('schema');
    await store.writeReadings([reading('shed-1-env', BASE, { temperature: 21, nh3: 12.5 })]);
    const [keys] = await influxql(influxd.url, 'SHOW TAG KEYS FROM "telemetry"', { db: 'schema' });
    expect(keys.series?.[0].values.map((v) => v[0])).toEqual(['device', 'kind', 'site', 'zone']);
    const [fields] = await influxql(influxd.url, 'SHOW FIELD KEYS FROM "telemetry"', { db: 'schema' });
    // 21 is written as a float too, so a later 21.5 never hits a field type conflict.
    expect(fields.series?.[0].values).toEqual([
      ['nh3', 'float'],
      ['temperature', 'float'],
    ]);
    const [rows] = await influxql(influxd.url, 'SELECT * FROM "telemetry"', { db: 'schema' });
    expect(rows.series?.[0].values).toEqual([[BASE, 'shed-1-env', 'shed', 12.5, 'huyang', 21, 'shed-1']]);
  });

  it('creates the database at start-up when it does not exist yet', async () => {
    await openStore('made_by_init');
    const [dbs] = await influxql(influxd.url, 'SHOW DATABASES');
    expect(dbs.series?.[0].values.flat()).toContain('made_by_init');
  });

  it('splits a large write into several requests and keeps every reading', async () => {
    const store = createInfluxStore(choice('chunks'), { logger, maxLinesPerRequest: 1000 });
    await store.init();
    const readings = Array.from({ length: 4321 }, (_, i) => reading('shed-2-env', BASE + i * 1000, { co2: 400 + i }));
    await store.writeReadings(readings);
    const [count] = await influxql(influxd.url, 'SELECT count("co2") FROM "telemetry"', { db: 'chunks' });
    expect(count.series?.[0].values[0][1]).toBe(4321);
  });

  it('rejects a write InfluxDB cannot accept with its own reason and as not retryable', async () => {
    const store = await openStore('conflict');
    // A field first written as a string cannot take floats in the same shard: InfluxDB answers 400 "field type conflict".
    const seeded = await fetch(`${influxd.url}/write?db=conflict&precision=ms`, {
      method: 'POST',
      body: `telemetry,site=x,zone=y,kind=shed,device=d rain_mm="a lot" ${BASE}`,
    });
    expect(seeded.status).toBe(204);
    const err = await store.writeReadings([reading('drain-a-1', BASE, { rain_mm: 3 })]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_WRITE', retryable: false, message: expect.stringMatching(/400.*field type conflict/) });
  });

  it('reports a write to an unreachable InfluxDB as retryable', async () => {
    const store = createInfluxStore({ kind: 'influx-v1', url: 'http://127.0.0.1:9', database: 'x', timeoutMs: 2000 }, { logger });
    const err = await store.writeReadings([reading('shed-1-env', BASE, { temperature: 1 })]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_WRITE', retryable: true, message: expect.stringContaining('http://127.0.0.1:9 is not reachable') });
  });
});
