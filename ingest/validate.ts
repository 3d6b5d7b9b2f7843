import { z } from 'zod';
import type { ZoneKind } from '../core/domain.js';
import type { RejectReason } from '../core/events.js';
import { METRICS } from '../core/metrics-catalog.js';
import { fastShapes, type ShapeCheck } from './reading-shape.js';
import { checkTimestamp, TimestampShape } from './timestamp.js';

/**
 * Pure validation of a telemetry payload (SPEC "Reading"). Each reading of a batch is judged on its own:
 * one bad reading does not sink the others. The payload's shape is checked by `shapes` (reading-shape.ts: the
 * zod schema, or by default its equal hot path); ranges, metrics and timestamps here.
 */
export interface ValidationContext {
  kind: ZoneKind;
  now: number;
  maxBytes: number;
  maxFutureMs: number;
  maxPastMs: number;
  /** The device's declared metrics, if the config lists them. */
  metrics?: readonly string[];
}

export interface ValidReading {
  ts: number;
  metrics: Record<string, number>;
}

export interface Rejection {
  reason: RejectReason;
  detail: string;
}

export interface ValidationResult {
  readings: ValidReading[];
  rejects: Rejection[];
}

export function validateTelemetry(payload: Buffer | string, ctx: ValidationContext, shapes: ShapeCheck = fastShapes): ValidationResult {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > ctx.maxBytes) return reject('oversize', `payload is ${size} bytes, the limit is ${ctx.maxBytes} (MAX_PAYLOAD_BYTES)`);
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return reject('malformed_json', `not JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  const shape = shapes.items(json);
  if (!shape.ok) return reject('schema', describe(shape.error));
  const items = shape.data;
  const out: ValidationResult = { readings: [], rejects: [] };
  for (let i = 0; i < items.length; i++) {
    const verdict = validateOne(items[i], ctx, shapes);
    if ('reason' in verdict) out.rejects.push(items.length > 1 ? { ...verdict, detail: `readings[${i}]: ${verdict.detail}` } : verdict);
    else out.readings.push(verdict);
  }
  return out;
}

function validateOne(item: unknown, ctx: ValidationContext, shapes: ShapeCheck): ValidReading | Rejection {
  const parsed = shapes.reading(item);
  if (!parsed.ok) return { reason: 'schema', detail: describe(parsed.error) };
  const { ts: rawTs, metrics } = parsed.data;
  let names = 0;
  for (const name in metrics) {
    names++;
    const spec = Object.hasOwn(METRICS, name) ? METRICS[name] : undefined;
    if (!spec) return { reason: 'unknown_metric', detail: `"${name.slice(0, 64)}" is not a known metric (the metrics: docs/mqtt.md "Metrics")` };
    if (!spec.kinds.includes(ctx.kind)) return { reason: 'unknown_metric', detail: `${name} is not measured in ${ctx.kind} zones` };
    if (ctx.metrics && !ctx.metrics.includes(name)) return { reason: 'unknown_metric', detail: `${name} is not among this device's configured metrics` };
    const value = metrics[name];
    if (value === null) return { reason: 'out_of_range', detail: `${name} is not a finite number (JSON has no NaN or Infinity)` };
    if (!Number.isFinite(value) || value < spec.min || value > spec.max)
      return { reason: 'out_of_range', detail: `${name}=${value} is outside ${spec.min}…${spec.max} ${spec.unit}` };
  }
  if (names === 0) return { reason: 'schema', detail: 'metrics is empty: send at least one metric' };
  const time = checkTimestamp(rawTs, ctx);
  if (!time.ok) return { reason: time.reason, detail: time.detail };
  // every value was checked above to be a finite number
  return { ts: time.ts, metrics: metrics as Record<string, number> };
}

function reject(reason: RejectReason, detail: string): ValidationResult {
  return { readings: [], rejects: [{ reason, detail }] };
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue.path.length ? issue.path.join('.') : 'payload';
  return `${path}: ${issue.message}; expected {"ts"?, "metrics": {name: number}} or {"readings": [...]}`;
}

/** Device state reports (SPEC "State"). */
const StateShape = z
  .object({ state: z.enum(['on', 'off']), value: z.number().min(0).max(100).optional(), ack: z.string().max(128).optional(), ts: TimestampShape.optional() })
  .strict();

export function validateState(payload: Buffer, ctx: Pick<ValidationContext, 'now' | 'maxBytes' | 'maxFutureMs' | 'maxPastMs'>) {
  if (payload.length > ctx.maxBytes) return { ok: false as const, reason: 'oversize' as const, detail: `payload is ${payload.length} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false as const, reason: 'malformed_json' as const, detail: (err as Error).message.slice(0, 120) };
  }
  const parsed = StateShape.safeParse(json);
  if (!parsed.success) return { ok: false as const, reason: 'schema' as const, detail: describe(parsed.error) };
  const { ts, ...rest } = parsed.data;
  const time = checkTimestamp(ts, ctx);
  if (!time.ok) return { ok: false as const, reason: time.reason, detail: time.detail };
  return { ok: true as const, state: { ...rest, ts: time.ts } };
}
