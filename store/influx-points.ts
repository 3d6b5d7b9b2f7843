import { escape, Point } from '@influxdata/influxdb-client';
import type { AlertEvent, Reading, TagRead } from '../core/domain.js';
import { StoreError, type CommandRecord, type ReadingKey } from './store.js';

/**
 * Line protocol for the InfluxDB schema:
 *   telemetry,site,zone,kind,device  <metric>=<float>...   (ms)
 *   alert,site,zone,rule,severity,state  id,level,value,message,device,by,json   (ns, see eventTime)
 *   command,site,zone,device,outcome  json   (ns)
 *   tag_read,site,zone,kind,device,tag  direction="in"|"out"|"none"   (ms)
 * An ear tag is a tag (indexed): an animal's timeline is one series per reader that saw it, and a read delivered
 * twice is the same point (same series, same time). Series: about animals × readers that see each (45,000 sheep
 * read by their shed's gate and a feeder: ~90,000), well within what InfluxDB 1.8's TSI index is made for.
 */
export const TELEMETRY = 'telemetry';
export const ALERT = 'alert';
export const COMMAND = 'command';
export const TELEMETRY_TAGS = ['site', 'zone', 'kind', 'device'] as const;
export const TAG_READ = 'tag_read';
export const TAG_READ_TAGS = ['site', 'zone', 'kind', 'device', 'tag'] as const;
/** The direction field of a read from a pen or feeder reader (a field needs a value). */
export const NO_DIRECTION = 'none';

const asIs = { convertTime: (t: string | number | Date | undefined) => (t === undefined ? undefined : String(t)) };

export function readingLine(r: Reading): string | undefined {
  const p = new Point(TELEMETRY).tag('site', r.site).tag('zone', r.zone).tag('kind', r.kind).tag('device', r.device);
  for (const [metric, value] of Object.entries(r.metrics)) {
    // Always float: an integer-looking 12 written as 12i would fix the field type and reject 12.5 later.
    if (!Number.isFinite(value)) throw new StoreError('STORE_WRITE', `reading of ${r.device} at ${r.ts} has a non-finite ${metric} (${value}): not stored`);
    p.floatField(metric, value);
  }
  return p.timestamp(Math.trunc(r.ts)).toLineProtocol(asIs);
}

/**
 * readingLine's output, built without a Point per reading (issue 18: the outbox drainer formats tens of thousands
 * of readings a second): the series part (measurement and sorted tags, escaped as Point does) is kept per device,
 * the fields are written straight. Equal to readingLine for every reading (test/store/influx-points.test.ts).
 */
export function createReadingLines(): (r: Reading) => string | undefined {
  /** Per device: its series text, and the field order of the metric names it sent last (devices repeat theirs). */
  const series = new Map<string, { site: string; zone: string; kind: string; text: string; names: string[]; order: { name: string; prefix: string }[] }>();
  const tag = (key: string, value: string) => (value ? `,${key}=${escape.tag(value)}` : '');
  return (r) => {
    let s = series.get(r.device);
    if (!s || s.site !== r.site || s.zone !== r.zone || s.kind !== r.kind) {
      // Point writes tags sorted by key, and leaves out empty ones.
      const text = `${escape.measurement(TELEMETRY)}${tag('device', r.device)}${tag('kind', r.kind)}${tag('site', r.site)}${tag('zone', r.zone)}`;
      series.set(r.device, (s = { site: r.site, zone: r.zone, kind: r.kind, text, names: [], order: [] }));
    }
    let i = 0;
    let same = true;
    for (const metric in r.metrics) {
      const value = r.metrics[metric];
      if (!Number.isFinite(value)) throw new StoreError('STORE_WRITE', `reading of ${r.device} at ${r.ts} has a non-finite ${metric} (${value}): not stored`);
      if (same && s.names[i] !== metric) same = false;
      i++;
    }
    if (!same || i !== s.names.length) {
      // Point writes fields sorted by key, and leaves out one without a name.
      s.names = Object.keys(r.metrics);
      s.order = [...s.names]
        .sort()
        .filter((name) => name)
        .map((name, k) => ({ name, prefix: `${k > 0 ? ',' : ''}${escape.tag(name)}=` }));
    }
    if (s.order.length === 0) return undefined;
    let fields = '';
    for (const f of s.order) fields += f.prefix + String(r.metrics[f.name]);
    return `${s.text} ${fields} ${Math.trunc(r.ts)}`;
  };
}

/**
 * The key of a reading from its line (readingLine's output): device tag, field names and timestamp. For the readings
 * waiting in the outbox as lines, which must be known as accepted after a restart. Field values here are always
 * numbers. Undefined for a line that is not a reading.
 */
export function readingKeyOfLine(line: string): ReadingKey | undefined {
  // Split at unescaped separators: series, fields, timestamp by spaces; the series' tags and the fields by commas.
  const parts = splitUnescaped(line, ' ');
  if (parts.length !== 3) return undefined;
  const [series, fields, time] = parts;
  const tags = splitUnescaped(series, ',');
  if (unescapeKey(tags[0]) !== TELEMETRY) return undefined;
  let device: string | undefined;
  for (const tag of tags.slice(1)) {
    const [key, value] = splitUnescaped(tag, '=');
    if (unescapeKey(key) === 'device' && value !== undefined) device = unescapeKey(value);
  }
  const metrics = splitUnescaped(fields, ',').map((field) => unescapeKey(splitUnescaped(field, '=')[0]));
  const ts = Number(time);
  if (device === undefined || !Number.isSafeInteger(ts) || metrics.some((m) => m === '')) return undefined;
  return { device, ts, metrics };
}

function splitUnescaped(text: string, separator: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === separator) {
      out.push(text.slice(from, i));
      from = i + 1;
    }
  }
  out.push(text.slice(from));
  return out;
}

// escape.tag puts a backslash before `,`, ` ` and `=`, and writes newline, return and tab as backslash n, r, t; a
// backslash itself is not escaped.
const UNESCAPED: Readonly<Record<string, string>> = { ',': ',', ' ': ' ', '=': '=', n: '\n', r: '\r', t: '\t' };
const unescapeKey = (text: string) => text.replace(/\\([, =nrt])/g, (_, c: string) => UNESCAPED[c]);

/**
 * Two events with the same tags and millisecond would overwrite each other in InfluxDB (same series, same
 * time). Events are written in ns with a number in the sub-millisecond digits, so each is kept; reading with
 * epoch=ms still gives back the original millisecond. The number is the event's key when the caller gives one
 * (the outbox's sequence number: the same event sent again lands on the same point, stored once) and a
 * per-process counter otherwise; either way later events of one millisecond sort after earlier ones (short of
 * the number wrapping round at a million).
 */
let eventCounter = 0;
function eventTime(ts: number, key: number | undefined): string {
  let sub: number;
  if (key === undefined) sub = eventCounter = (eventCounter + 1) % 1_000_000;
  else sub = Math.trunc(key) % 1_000_000;
  return `${Math.trunc(ts)}${String(sub).padStart(6, '0')}`;
}

/** InfluxDB 1.x splits lines on a raw newline even inside a quoted string field (JSON text has none). */
function oneLine(value: string): string {
  return value.replace(/\r?\n/g, ' ');
}

function optional(p: Point, name: string, value: string | undefined): void {
  if (value !== undefined) p.stringField(name, oneLine(value));
}

export function alertLine(e: AlertEvent, key?: number): string {
  const p = new Point(ALERT).tag('site', e.site).tag('zone', e.zone).tag('rule', e.rule).tag('severity', e.severity).tag('state', e.state);
  p.stringField('id', oneLine(e.id)).stringField('message', oneLine(e.message)).stringField('json', JSON.stringify(e));
  optional(p, 'level', e.level ?? undefined);
  optional(p, 'device', e.device);
  optional(p, 'by', e.by);
  if (e.value !== null && e.value !== undefined && Number.isFinite(e.value)) p.floatField('value', e.value);
  return p.timestamp(eventTime(e.ts, key)).toLineProtocol(asIs)!;
}

export function commandLine(c: CommandRecord, key?: number): string {
  return new Point(COMMAND)
    .tag('site', c.site)
    .tag('zone', c.zone)
    .tag('device', c.device)
    .tag('outcome', c.outcome)
    .stringField('json', JSON.stringify(c))
    .timestamp(eventTime(c.ts, key))
    .toLineProtocol(asIs)!;
}

export function tagReadLine(r: TagRead): string {
  return new Point(TAG_READ)
    .tag('site', r.site)
    .tag('zone', r.zone)
    .tag('kind', r.kind)
    .tag('device', r.device)
    .tag('tag', r.tag)
    .stringField('direction', r.direction ?? NO_DIRECTION)
    .timestamp(Math.trunc(r.ts))
    .toLineProtocol(asIs)!;
}
