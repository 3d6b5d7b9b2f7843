import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreChoice } from '../../core/config/env.js';
import { silentLogger } from '../../core/logger.js';
import { createInfluxStore } from '../../store/influx-store.js';
import { createAdmin, freePort, influxql, startInfluxd, type Influxd } from '../helpers/influxd.js';

/** What a user sees when INFLUX_* points at the wrong place or the wrong credentials: a code and what to fix. */
const logger = silentLogger();
const admin = { username: 'admin', password: 'x' };

function v1(url: string, database: string, auth: { username?: string; password?: string } = {}): StoreChoice {
  return { kind: 'influx-v1', url, database, timeoutMs: 5000, ...auth };
}

describe('InfluxDB start-up errors', () => {
  let influxd: Influxd;
  beforeAll(async () => {
    influxd = await startInfluxd({ authEnabled: true });
    await createAdmin(influxd.url, admin.username, admin.password);
    await influxql(influxd.url, `CREATE USER "reader" WITH PASSWORD 'r'`, {}, admin);
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  it('names the URL and says to start InfluxDB when nothing listens there', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const err = await createInfluxStore(v1(url, 'farm'), { logger })
      .init()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_UNREACHABLE', message: expect.stringContaining(`InfluxDB at ${url} is not reachable`) });
    expect((err as Error).message).toMatch(/start it or fix INFLUX_URL$/);
  });

  it('says the URL is not InfluxDB when /ping is not answered like InfluxDB does', async () => {
    const server = createServer((_, res) => res.writeHead(404).end('no such page'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await expect(createInfluxStore(v1(url, 'farm'), { logger }).init()).rejects.toMatchObject({
      code: 'STORE_UNREACHABLE',
      message: expect.stringContaining('answered /ping with HTTP 404'),
    });
    server.close();
  });

  it('rejects a wrong password with STORE_AUTH naming INFLUX_USERNAME/INFLUX_PASSWORD', async () => {
    const err = await createInfluxStore(v1(influxd.url, 'farm', { username: 'admin', password: 'wrong' }), { logger })
      .init()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_AUTH', message: expect.stringContaining('credentials rejected: check INFLUX_USERNAME/INFLUX_PASSWORD') });
  });

  it('rejects missing credentials when InfluxDB requires them', async () => {
    await expect(createInfluxStore(v1(influxd.url, 'farm'), { logger }).init()).rejects.toMatchObject({ code: 'STORE_AUTH' });
  });

  it('creates the missing database when the user may, then writes to it', async () => {
    const store = createInfluxStore(v1(influxd.url, 'created_db', admin), { logger });
    await store.init();
    const [dbs] = await influxql(influxd.url, 'SHOW DATABASES', {}, admin);
    expect(dbs.series?.[0].values.flat()).toContain('created_db');
    await store.writeReadings([{ site: 's', zone: 'z', kind: 'shed', device: 'd', ts: Date.now(), metrics: { temperature: 20 } }]);
    expect(await store.latest()).toHaveLength(1);
  });

  it('says to create the database or grant rights when the user may not create it', async () => {
    const err = await createInfluxStore(v1(influxd.url, 'not_mine', { username: 'reader', password: 'r' }), { logger })
      .init()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_NO_DATABASE' });
    expect((err as Error).message).toMatch(/"not_mine" does not exist.*could not be created.*CREATE DATABASE "not_mine".*GRANT ALL ON "not_mine"/);
  });

  it('tells a user who configured InfluxDB 2.x settings against a 1.x server to use the 1.x ones', async () => {
    const choice: StoreChoice = { kind: 'influx-v2', url: influxd.url, token: 't', org: 'o', bucket: 'b', database: 'b', timeoutMs: 5000 };
    await expect(createInfluxStore(choice, { logger }).init()).rejects.toMatchObject({
      code: 'STORE_NO_DATABASE',
      message: expect.stringContaining('not InfluxDB 2.x (1.x?): set INFLUX_DATABASE with INFLUX_USERNAME/INFLUX_PASSWORD'),
    });
  });
});
