import { METRICS } from '../../core/metrics-catalog.js';
import type { Rng } from './rng.js';
import { clamp, round } from './units.js';

/**
 * Device faults on demand, applied between a model's true reading and the wire. Each fault is pure:
 * (fault state, reading, time, rng) → (fault state, what the device emits).
 */
export const FAULT_KINDS = ['stuck', 'spike', 'dropout', 'out-of-range', 'malformed', 'never-ack', 'reconnect-batch', 'missed-reads', 'lost-tag'] as const;
/** Faults of an ear-tag gate reader (models/flock.ts), not of a sensor's readings. */
export const READER_FAULTS: readonly FaultKind[] = ['missed-reads', 'lost-tag'];
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * The words the READMEs use for the same faults ("a spiking sensor", "a silent one"): accepted on the command
 * line too, so what a reader copies from the docs works.
 */
export const FAULT_ALIASES: Readonly<Record<string, FaultKind>> = {
  spiking: 'spike',
  silent: 'dropout',
  'store-and-forward': 'reconnect-batch',
  'never-acknowledging': 'never-ack',
  'missed-read': 'missed-reads',
};

export interface FaultSpec {
  kind: FaultKind;
  /** Device id; when omitted a scenario or the CLI picks one. */
  device?: string;
  /** Active window in simulated seconds since the start; `toSec` omitted = until the end. */
  fromSec?: number;
  toSec?: number;
  /** Share of readings affected, for spike / out-of-range / malformed. */
  probability?: number;
}

export interface TimedReading {
  ts: number;
  metrics: Record<string, number>;
}

export type Emission = { type: 'telemetry'; payload: unknown } | { type: 'raw'; payload: string } | { type: 'connection'; online: boolean };

export interface SensorFaultState {
  stuck?: Record<string, number>;
  offline: boolean;
  buffer: TimedReading[];
}

/** A store-and-forward device keeps this many readings while offline (older ones are lost). */
export const STORE_AND_FORWARD_LIMIT = 500;

export function initialFaultState(): SensorFaultState {
  return { offline: false, buffer: [] };
}

export function isActive(f: FaultSpec, tSec: number): boolean {
  return tSec >= (f.fromSec ?? 0) && (f.toSec === undefined || tSec < f.toSec);
}

export function neverAcks(faults: readonly FaultSpec[], tSec: number): boolean {
  return faults.some((f) => f.kind === 'never-ack' && isActive(f, tSec));
}

/** Parses `kind[:device][@from[-to]]` (seconds), as typed on the command line. */
export function parseFaultSpec(text: string): FaultSpec {
  const match = /^([a-z-]+)(?::([a-z0-9][a-z0-9_-]*))?(?:@(\d+)(?:-(\d+))?)?$/.exec(text.trim());
  const kind = match && ((FAULT_KINDS as readonly string[]).includes(match[1]) ? (match[1] as FaultKind) : FAULT_ALIASES[match[1]]);
  if (!match || !kind) {
    throw new Error(
      `"${text}" is not a fault: write kind[:device][@fromSec[-toSec]] with kind one of ${FAULT_KINDS.join(', ')} ` +
        `(or ${Object.entries(FAULT_ALIASES)
          .map(([alias, k]) => `${alias} for ${k}`)
          .join(', ')})`,
    );
  }
  const spec: FaultSpec = { kind };
  if (match[2]) spec.device = match[2];
  if (match[3]) spec.fromSec = Number(match[3]);
  if (match[4]) spec.toSec = Number(match[4]);
  return spec;
}

const telemetry = (r: TimedReading): Emission => ({ type: 'telemetry', payload: { ts: r.ts, metrics: r.metrics } });

/** A plausible-but-wrong jump (electrical noise, a bird on the gauge): stays inside the accepted range. */
function spike(metrics: Record<string, number>, rng: Rng): Record<string, number> {
  const names = Object.keys(metrics);
  if (names.length === 0) return metrics;
  const name = rng.pick(names);
  const spec = METRICS[name];
  const span = spec ? spec.max - spec.min : 100;
  const jumped = metrics[name] + (rng.chance(0.7) ? 1 : -1) * span * rng.uniform(0.05, 0.2);
  return { ...metrics, [name]: round(spec ? clamp(jumped, spec.min, spec.max) : jumped, 2) };
}

/** Garbage a broken ADC or a miswired probe sends: outside the plausible range on purpose. */
function outOfRange(metrics: Record<string, number>, rng: Rng): Record<string, number> {
  const names = Object.keys(metrics);
  if (names.length === 0) return metrics;
  const name = rng.pick(names);
  const spec = METRICS[name] ?? { min: 0, max: 100 };
  const garbage = rng.chance(0.5) ? spec.max + rng.uniform(1, 1000) : spec.min - rng.uniform(1, 100);
  return { ...metrics, [name]: round(garbage, 1) };
}

/** Payloads the ingest must reject without falling over: bad JSON, wrong shapes, wrong types. */
function malformed(r: TimedReading, rng: Rng): string {
  const json = JSON.stringify({ ts: r.ts, metrics: r.metrics });
  const variants = [
    () => json.slice(0, Math.max(1, Math.floor(json.length * rng.uniform(0.2, 0.9)))),
    () =>
      Object.entries(r.metrics)
        .map(([k, v]) => `${k}=${v}`)
        .join(';'),
    () => JSON.stringify({ ts: r.ts, metrics: 'sensor error' }),
    () => JSON.stringify({ ts: 'yesterday', metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, String(v)])) }),
    () => '\u0000\u00ff\u0013garbage\u0007',
    () => '',
  ];
  return rng.pick(variants)();
}

/**
 * Applies the device's faults to one reading. The first active fault wins; a reconnect-batch window that
 * has ended makes the device come back online and flush what it stored.
 */
export function applySensorFaults(
  faults: readonly FaultSpec[],
  state: SensorFaultState,
  reading: TimedReading,
  tSec: number,
  rng: Rng,
): { state: SensorFaultState; emissions: Emission[] } {
  const active = faults.find((f) => f.kind !== 'never-ack' && !READER_FAULTS.includes(f.kind) && isActive(f, tSec));
  const emissions: Emission[] = [];
  let next: SensorFaultState = active?.kind === 'stuck' ? state : { ...state, stuck: undefined };

  if (next.offline && active?.kind !== 'reconnect-batch') {
    emissions.push({ type: 'connection', online: true });
    const readings = [...next.buffer, reading].slice(-STORE_AND_FORWARD_LIMIT);
    emissions.push({ type: 'telemetry', payload: { readings } });
    return { state: { ...next, offline: false, buffer: [] }, emissions };
  }
  if (!active) return { state: next, emissions: [telemetry(reading)] };

  const p = active.probability;
  switch (active.kind) {
    case 'stuck': {
      const stuck = next.stuck ?? reading.metrics;
      return { state: { ...next, stuck }, emissions: [telemetry({ ts: reading.ts, metrics: stuck })] };
    }
    case 'spike':
      return { state: next, emissions: [telemetry(rng.chance(p ?? 0.15) ? { ts: reading.ts, metrics: spike(reading.metrics, rng) } : reading)] };
    case 'dropout':
      return { state: next, emissions: [] };
    case 'out-of-range':
      return { state: next, emissions: [telemetry(rng.chance(p ?? 0.5) ? { ts: reading.ts, metrics: outOfRange(reading.metrics, rng) } : reading)] };
    case 'malformed':
      return { state: next, emissions: [rng.chance(p ?? 0.5) ? { type: 'raw', payload: malformed(reading, rng) } : telemetry(reading)] };
    case 'reconnect-batch':
      if (!next.offline) emissions.push({ type: 'connection', online: false });
      next = { ...next, offline: true, buffer: [...next.buffer, reading].slice(-STORE_AND_FORWARD_LIMIT) };
      return { state: next, emissions };
    default:
      return { state: next, emissions: [telemetry(reading)] };
  }
}
