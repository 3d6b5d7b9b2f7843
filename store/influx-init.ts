import type { Logger } from 'pino';
import { errorText, type InfluxChoice, type InfluxHttp } from './influx-http.js';
import { ident } from './influxql.js';
import { StoreError } from './store.js';

/**
 * Start-up checks for InfluxDB, in the order a user would fix things: is it running, are the credentials
 * right, does the database (bucket) exist. Each failure is a StoreError whose message says what to do.
 */
export async function prepareInflux(http: InfluxHttp, choice: InfluxChoice, logger: Logger): Promise<void> {
  const status = await http.ping();
  if (status !== 204 && status !== 200)
    throw new StoreError('STORE_UNREACHABLE', `InfluxDB at ${http.url} answered /ping with HTTP ${status}: is INFLUX_URL an InfluxDB server?`, true);
  if (choice.kind === 'influx-v1') await prepareDatabase(http, choice, logger);
  else await checkBucket(http, choice);
}

async function prepareDatabase(http: InfluxHttp, choice: Extract<InfluxChoice, { kind: 'influx-v1' }>, logger: Logger) {
  const results = await asAuthError(http.query('SHOW DATABASES', { db: '' }));
  const names = (results[0]?.series?.[0]?.values ?? []).map((v) => String(v[0]));
  if (names.includes(choice.database)) return;

  const who = choice.username ? `user ${choice.username}` : 'an anonymous user';
  let failure: string | undefined;
  try {
    const created = await http.query(`CREATE DATABASE ${ident(choice.database)}`, { db: '' });
    failure = created[0]?.error;
  } catch (err) {
    if (!(err instanceof StoreError) || err.code !== 'STORE_AUTH') throw err;
    failure = err.message;
  }
  if (failure)
    throw new StoreError(
      'STORE_NO_DATABASE',
      `InfluxDB database "${choice.database}" does not exist (or ${who} cannot read it) and could not be created (${failure}): ` +
        `create it as an admin with CREATE DATABASE "${choice.database}" and grant access with GRANT ALL ON "${choice.database}" TO "<user>", or set INFLUX_DATABASE`,
    );
  logger.info({ database: choice.database, url: http.url }, 'created InfluxDB database');
}

async function checkBucket(http: InfluxHttp, choice: Extract<InfluxChoice, { kind: 'influx-v2' }>) {
  const res = await http.get('/api/v2/buckets', { name: choice.bucket, org: choice.org });
  const text = await res.text();
  if (res.status === 401 || res.status === 403)
    throw new StoreError('STORE_AUTH', `InfluxDB at ${http.url} rejected the token (${res.status} ${errorText(text)}): check INFLUX_TOKEN`);
  if (res.status === 404) {
    const message = errorText(text);
    if (/organization/i.test(message))
      throw new StoreError('STORE_NO_DATABASE', `InfluxDB organization "${choice.org}" not found (${message}): check INFLUX_ORG`);
    throw new StoreError(
      'STORE_NO_DATABASE',
      `InfluxDB at ${http.url} has no /api/v2/buckets endpoint, so it is not InfluxDB 2.x (1.x?): ` +
        'set INFLUX_DATABASE with INFLUX_USERNAME/INFLUX_PASSWORD instead of INFLUX_ORG/INFLUX_BUCKET',
    );
  }
  if (!res.ok) throw new StoreError('STORE_UNREACHABLE', `InfluxDB at ${http.url} failed the bucket lookup (${res.status} ${errorText(text)})`, true);
  const buckets = (JSON.parse(text) as { buckets?: { name: string }[] }).buckets ?? [];
  if (!buckets.some((b) => b.name === choice.bucket))
    throw new StoreError(
      'STORE_NO_DATABASE',
      `InfluxDB bucket "${choice.bucket}" not found in organization "${choice.org}": create it with \`influx bucket create -n ${choice.bucket} -o ${choice.org}\` or fix INFLUX_BUCKET`,
    );
  // Queries go through the v1-compatible /query with db=<bucket>: InfluxDB 2.x maps a bucket's name to a
  // database automatically (virtual DBRP mapping), so nothing more to prepare here.
}

async function asAuthError<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof StoreError && err.code === 'STORE_AUTH')
      throw new StoreError('STORE_AUTH', `${err.message}: credentials rejected: check INFLUX_USERNAME/INFLUX_PASSWORD`);
    throw err;
  }
}
