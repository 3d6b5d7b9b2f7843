import type { StoreChoice } from '../core/config/env.js';
import type { InfluxQueryResponse, InfluxResult } from './influxql.js';
import { StoreError } from './store.js';

export type InfluxChoice = Extract<StoreChoice, { kind: 'influx-v1' | 'influx-v2' }>;

/**
 * The HTTP conversation with InfluxDB: /ping, InfluxQL over /query, line protocol over /write (1.x) or
 * /api/v2/write (2.x). Plain fetch rather than the client's WriteApi: that one keeps its own retry buffer
 * which drops lines when full, and the outbox (buffered-store.ts) must be the only place that retries.
 */
export interface InfluxHttp {
  readonly url: string;
  ping(): Promise<number>;
  /** Runs one or more `;`-separated statements; a statement's own error is left in its result. */
  query(q: string, opts?: { db?: string }): Promise<InfluxResult[]>;
  write(lines: string[], precision: 'ms' | 'ns'): Promise<void>;
  /** Lines already joined by "\n". */
  writeText(body: string, precision: 'ms' | 'ns'): Promise<void>;
  /** GET with auth, for the 2.x management API (bucket lookup). */
  get(path: string, params: Record<string, string>): Promise<Response>;
}

/** Statuses that an operator or time can fix without touching the data: retrying, not discarding, is right. */
const RETRYABLE_4XX = new Set([401, 403, 404, 408, 429]);

export function createInfluxHttp(choice: InfluxChoice, fetchFn: typeof fetch = fetch): InfluxHttp {
  const base = choice.url.replace(/\/+$/, '');

  function authHeaders(): Record<string, string> {
    if (choice.kind === 'influx-v2') return { Authorization: `Token ${choice.token}` };
    // A token alone (INFLUX_TOKEN without org/bucket) is how 1.8+ and 2.x's v1-compatible API authenticate.
    if (choice.username === undefined) return choice.password ? { Authorization: `Token ${choice.password}` } : {};
    // Basic auth rather than u=/p= query parameters: keeps the password out of proxy and access logs.
    const basic = Buffer.from(`${choice.username}:${choice.password ?? ''}`).toString('base64');
    return { Authorization: `Basic ${basic}` };
  }

  async function send(path: string, params: Record<string, string>, init: RequestInit = {}): Promise<Response> {
    const url = `${base}${path}?${new URLSearchParams(params)}`;
    return fetchFn(url, {
      ...init,
      headers: { ...authHeaders(), ...(init.headers as Record<string, string> | undefined) },
      signal: AbortSignal.timeout(choice.timeoutMs),
    });
  }

  function unreachable(err: unknown): string {
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    return `InfluxDB at ${base} is not reachable (${cause})`;
  }

  async function writeText(body: string, precision: 'ms' | 'ns'): Promise<void> {
    if (body.length === 0) return;
    const [path, params] =
      choice.kind === 'influx-v2' ? ['/api/v2/write', { org: choice.org, bucket: choice.bucket, precision }] : ['/write', { db: choice.database, precision }];
    let res: Response;
    try {
      res = await send(path, params, { method: 'POST', body, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
    } catch (err) {
      throw new StoreError('STORE_WRITE', `${unreachable(err)}: write not confirmed, will retry`, true);
    }
    const text = await res.text();
    if (res.ok) return;
    const retryable = res.status >= 500 || RETRYABLE_4XX.has(res.status);
    throw new StoreError('STORE_WRITE', `InfluxDB rejected the write (${res.status} ${errorText(text)})${writeHint(choice, res.status)}`, retryable);
  }

  return {
    url: base,

    async ping() {
      try {
        const res = await send('/ping', {});
        await res.arrayBuffer();
        return res.status;
      } catch (err) {
        throw new StoreError('STORE_UNREACHABLE', `${unreachable(err)}: start it or fix INFLUX_URL`, true);
      }
    },

    async query(q, opts = {}) {
      let res: Response;
      try {
        res = await send(
          '/query',
          { db: opts.db ?? choice.database, epoch: 'ms' },
          // q in a form body: long multi-statement queries stay clear of URL length limits.
          { method: 'POST', body: new URLSearchParams({ q }), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
        );
      } catch (err) {
        throw new StoreError('STORE_QUERY', `${unreachable(err)}: query not run`, true);
      }
      const text = await res.text();
      if (res.status === 401 || res.status === 403)
        throw new StoreError('STORE_AUTH', `InfluxDB at ${base} refused the query (${res.status} ${errorText(text)})`);
      if (!res.ok) throw new StoreError('STORE_QUERY', `InfluxDB query failed (${res.status} ${errorText(text)})`, res.status >= 500);
      let body: InfluxQueryResponse;
      try {
        body = JSON.parse(text) as InfluxQueryResponse;
      } catch {
        throw new StoreError('STORE_QUERY', `InfluxDB at ${base} answered /query with something that is not JSON: is INFLUX_URL right?`);
      }
      if (body.error) throw new StoreError('STORE_QUERY', `InfluxDB query failed: ${body.error}`);
      return body.results ?? [];
    },

    write: (lines, precision) => writeText(lines.join('\n'), precision),

    writeText,

    async get(path, params) {
      try {
        return await send(path, params);
      } catch (err) {
        throw new StoreError('STORE_UNREACHABLE', `${unreachable(err)}: start it or fix INFLUX_URL`, true);
      }
    },
  };
}

/** InfluxDB's own words: 1.x answers {"error"}, 2.x {"code","message"}. */
export function errorText(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: string; message?: string };
    return json.error ?? json.message ?? body.slice(0, 500);
  } catch {
    return body.slice(0, 500).trim();
  }
}

function writeHint(choice: InfluxChoice, status: number): string {
  if (status === 401 || status === 403)
    return choice.kind === 'influx-v2' ? ': check INFLUX_TOKEN can write the bucket' : ": check INFLUX_USERNAME/INFLUX_PASSWORD and the user's WRITE grant";
  if (status === 404) return `: ${choice.kind === 'influx-v2' ? `bucket ${choice.bucket}` : `database ${choice.database}`} is missing, create it`;
  return '';
}
