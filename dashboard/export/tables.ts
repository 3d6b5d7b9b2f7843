import type { AlertEvent } from '../../core/domain.js';
import { METRICS } from '../../core/metrics-catalog.js';
import type { HistorySeries, RawPoint } from '../../store/store.js';
import { csvLine } from './csv.js';
import { headerCells, type Column, type ExportLang } from './labels.js';
import { zonedIsoFormatter } from './site-time.js';

/**
 * The rows of the CSV exports, as chunks of text (one per page of the store): raw readings, history buckets
 * and alert events. Times are in each row's site's zone (ISO 8601 with offset).
 */
export interface TableOptions {
  lang: ExportLang;
  /** The time zone of a site (siteTimeZone). */
  timeZoneOf(site: string): string;
  /** The time zone named in the header, when every row is in it. */
  headerTimeZone?: string;
}

function timeFormat(options: TableOptions): (site: string, ts: number) => string {
  const bySite = new Map<string, (ts: number) => string>();
  return (site, ts) => {
    let f = bySite.get(site);
    if (!f) bySite.set(site, (f = zonedIsoFormatter(options.timeZoneOf(site))));
    return f(ts);
  };
}

const unit = (metric: string) => METRICS[metric]?.unit ?? '';

export const READING_COLUMNS: Column[] = ['time', 'site', 'zone', 'device', 'metric', 'value', 'unit'];

export async function* readingsTable(pages: AsyncIterable<RawPoint[]>, options: TableOptions): AsyncGenerator<string> {
  const time = timeFormat(options);
  yield csvLine(headerCells(READING_COLUMNS, options.lang, options.headerTimeZone));
  for await (const page of pages) {
    let chunk = '';
    for (const p of page) chunk += csvLine([time(p.site, p.ts), p.site, p.zone, p.device, p.metric, p.value, unit(p.metric)]);
    yield chunk;
  }
}

export const BUCKET_COLUMNS: Column[] = ['time', 'site', 'zone', 'device', 'metric', 'mean', 'min', 'max', 'count', 'unit'];

/** History buckets (`every` given): one row per device and bucket, the bucket's start as its time. */
export async function* bucketsTable(
  series: AsyncIterable<{ metric: string; series: HistorySeries[] }>,
  where: (device: string) => { site: string; zone: string } | undefined,
  options: TableOptions,
): AsyncGenerator<string> {
  const time = timeFormat(options);
  yield csvLine(headerCells(BUCKET_COLUMNS, options.lang, options.headerTimeZone));
  for await (const { metric, series: list } of series) {
    for (const s of list) {
      const at = where(s.device);
      if (!at) continue;
      let chunk = '';
      for (const b of s.buckets) chunk += csvLine([time(at.site, b.ts), at.site, at.zone, s.device, metric, b.mean, b.min, b.max, b.count, unit(metric)]);
      yield chunk;
    }
  }
}

export const ALERT_COLUMNS: Column[] = ['time', 'site', 'zone', 'device', 'rule', 'severity', 'level', 'state', 'value', 'message', 'by', 'alert'];

export async function* alertsTable(pages: AsyncIterable<AlertEvent[]>, options: TableOptions): AsyncGenerator<string> {
  const time = timeFormat(options);
  yield csvLine(headerCells(ALERT_COLUMNS, options.lang, options.headerTimeZone));
  for await (const page of pages) {
    let chunk = '';
    for (const a of page) chunk += csvLine([time(a.site, a.ts), a.site, a.zone, a.device, a.rule, a.severity, a.level, a.state, a.value, a.message, a.by, a.id]);
    yield chunk;
  }
}
