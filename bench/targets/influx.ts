import { findInfluxd, influxql, startInfluxd, type Influxd } from '../../test/helpers/influxd.js';
import { createRng, calmValue } from '../load/payload.js';

/**
 * InfluxDB for the benchmark: the real influxd of the test harness (its own temp dir and free port), one
 * database per run so every count starts at zero, and the raw line-protocol write reference.
 */
export type { Influxd };

export function influxdMissing(): string | undefined {
  return findInfluxd()
    ? undefined
    : 'influxd not found: install InfluxDB 1.x with `sudo apt-get install -y influxdb` (the InfluxDB figures need it), or skip them with --store embedded';
}

export async function startBenchInfluxd(): Promise<Influxd> {
  return startInfluxd();
}

export async function createDatabase(url: string, name: string): Promise<void> {
  await influxql(url, `CREATE DATABASE "${name}"`);
}

export async function dropDatabase(url: string, name: string): Promise<void> {
  await influxql(url, `DROP DATABASE "${name}"`).catch(() => undefined);
}

/** Sum of count(field) over the given fields of measurement telemetry. */
export async function influxCount(url: string, database: string, fields: readonly string[]): Promise<number> {
  const select = fields.map((f) => `count("${f}")`).join(', ');
  const results = await influxql(url, `SELECT ${select} FROM "telemetry"`, { db: database });
  const row = results[0]?.series?.[0]?.values?.[0];
  if (!row) return 0;
  return row.slice(1).reduce<number>((s, v) => s + (typeof v === 'number' ? v : 0), 0);
}

/** Epoch ms of the newest reading of one device, or undefined. */
export async function influxLastTs(url: string, database: string, device: string, field: string): Promise<number | undefined> {
  const results = await influxql(url, `SELECT last("${field}") FROM "telemetry" WHERE "device" = '${device}' AND time > now() - 10m`, { db: database });
  const t = results[0]?.series?.[0]?.values?.[0]?.[0];
  return typeof t === 'number' ? t : undefined;
}

/**
 * The raw reference: one client POSTs batches of `batchLines` lines (the shape the service writes: measurement
 * telemetry, tags site/zone/kind/device, three float fields, ms timestamps) back to back for `durationMs`.
 * Returns points/s as InfluxDB confirmed them (204), and the count InfluxDB holds afterwards.
 */
export async function rawWriteRate(
  url: string,
  database: string,
  o: { batchLines: number; durationMs: number; devices: number; onProgress?: (points: number) => void },
): Promise<{ pointsPerSec: number; written: number; counted: number }> {
  const rng = createRng(7);
  const tags = Array.from(
    { length: o.devices },
    (_, i) => `telemetry,site=bench,zone=load-${String(Math.floor(i / 100)).padStart(3, '0')},kind=shed,device=load-${String(i).padStart(5, '0')}`,
  );
  const lastTs = new Array<number>(o.devices).fill(0);
  let cursor = 0;
  const batch = () => {
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < o.batchLines; i++) {
      const d = cursor++ % o.devices;
      const ts = (lastTs[d] = Math.max(now, lastTs[d] + 1));
      lines.push(`${tags[d]} temperature=${calmValue('temperature', rng)},humidity=${calmValue('humidity', rng)},nh3=${calmValue('nh3', rng)} ${ts}`);
    }
    return lines.join('\n');
  };
  const endpoint = `${url}/write?${new URLSearchParams({ db: database, precision: 'ms' })}`;
  let written = 0;
  let body = batch();
  const started = Date.now();
  while (Date.now() - started < o.durationMs) {
    const res = await fetch(endpoint, { method: 'POST', body });
    if (res.status !== 204) throw new Error(`InfluxDB refused a raw write: ${res.status} ${await res.text()}`);
    written += o.batchLines;
    o.onProgress?.(written);
    body = batch(); // built after the write so its stamps are fresh; the time it takes is part of the client's cost
  }
  const seconds = (Date.now() - started) / 1000;
  const counted = await influxCount(url, database, ['temperature']);
  return { pointsPerSec: written / seconds, written, counted };
}
