import { z } from 'zod';
import { ACTUATOR_TYPES, ZONE_KINDS } from '../core/domain.js';
import { REJECT_REASONS, type FarmEvents } from '../core/events.js';
import type { BridgedEvent } from './service-topics.js';

/**
 * The FarmBus events as they travel between processes (cluster/event-bridge.ts), one zod schema each. A schema's
 * output must be the in-process event type (checked by the compiler, keys included: a field added to an event type
 * does not compile here until its schema has it), so what a consuming process emits on its own bus is exactly what
 * the producing process emitted, and anything else on the wire is refused instead of reaching the components.
 */
const Text = z.string().max(10_000);
const Kind = z.enum(ZONE_KINDS);
const Action = z.enum(['on', 'off', 'set']);
const Ref = { site: Text, zone: Text, kind: Kind, device: Text };
const Severity = z.enum(['info', 'warning', 'critical']);

const Reading = z.object({ ...Ref, ts: z.number(), metrics: z.record(z.string(), z.number()) });
const Command = z.object({ id: Text, action: Action, value: z.number().optional(), reason: Text, ts: z.number() });
const HolderView = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('rule'),
    rule: Text,
    sensor: Text.optional(),
    action: Action,
    value: z.number().optional(),
    since: z.number(),
    metric: Text.nullable(),
    reading: z.number().nullable(),
    decides: z.boolean(),
  }),
  z.object({
    kind: z.literal('operator'),
    user: Text,
    action: Action,
    value: z.number().optional(),
    since: z.number(),
    until: z.number(),
    decides: z.boolean(),
  }),
  z.object({ kind: z.literal('failsafe'), zone: Text, action: Action, value: z.number().optional(), since: z.number(), decides: z.boolean() }),
  z.object({ kind: z.literal('floor'), floor: Text, rule: Text, action: Action, value: z.number().optional(), since: z.number(), decides: z.boolean() }),
]);
const Hold = z.object({ user: Text, action: Action, value: z.number().optional(), since: z.number(), until: z.number() });
/** A built-in alert's facts (core/domain.ts AlertDetail), from which screens write its text in either language. */
const AlertDetail = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('actuator'), action: Action, value: z.number().optional(), attempts: z.number() }),
  z.object({ kind: z.literal('failsafe'), afterMs: z.number(), actuators: z.array(z.object({ type: z.enum(ACTUATOR_TYPES), action: z.enum(['on', 'off']) })) }),
  z.object({
    kind: z.literal('hold'),
    user: Text,
    action: Action,
    value: z.number().optional(),
    until: z.number(),
    rules: z.array(Text),
    want: Action,
    wantValue: z.number().optional(),
  }),
  z.object({
    kind: z.literal('animal-missing'),
    tag: Text,
    group: Text.optional(),
    missingAfterMs: z.number(),
    last: z.object({ device: Text, zone: Text, direction: z.enum(['in', 'out']).optional(), agoMs: z.number() }).optional(),
  }),
  z.object({ kind: z.literal('head-count'), counted: z.number(), expected: z.number(), out: z.number(), graceMs: z.number() }),
]);

/** The schema for one event, held to the in-process type: its output is T and it names every key of T. */
function wire<T>() {
  return <S extends z.ZodType<T, unknown>>(
    schema: S & ([Exclude<KeysOf<T>, KeysOf<z.output<S>>>] extends [never] ? unknown : { missingKeys: Exclude<KeysOf<T>, KeysOf<z.output<S>>> }),
  ) => schema;
}
type KeysOf<T> = T extends unknown ? keyof T : never;

type Payload<E extends BridgedEvent> = FarmEvents[E][0];

export const EVENT_SCHEMAS: { [E in BridgedEvent]: z.ZodType<Payload<E>, unknown> } = {
  reading: wire<Payload<'reading'>>()(Reading),
  status: wire<Payload<'status'>>()(z.object({ ...Ref, status: z.enum(['online', 'offline']), ts: z.number() })),
  actuatorState: wire<Payload<'actuatorState'>>()(
    z.object({ ...Ref, state: z.enum(['on', 'off']), value: z.number().optional(), ack: Text.optional(), ts: z.number() }),
  ),
  command: wire<Payload<'command'>>()(z.object({ ...Ref, command: Command })),
  commandOutcome: wire<Payload<'commandOutcome'>>()(
    z.object({ ...Ref, command: Command, outcome: z.enum(['retried', 'failed']), attempt: z.number(), attempts: z.number(), ts: z.number() }),
  ),
  alert: wire<Payload<'alert'>>()(
    z.object({
      id: Text,
      rule: Text,
      site: Text,
      zone: Text,
      device: Text.optional(),
      severity: Severity,
      level: Text.nullable(),
      state: z.enum(['raised', 'escalated', 'acknowledged', 'cleared']),
      value: z.number().nullable(),
      metric: Text.nullable(),
      message: Text,
      messages: z.object({ en: Text, zh: Text }).optional(),
      ts: z.number(),
      raisedAt: z.number().optional(),
      by: Text.optional(),
      animal: Text.optional(),
      detail: AlertDetail.optional(),
    }),
  ),
  reject: wire<Payload<'reject'>>()(
    z.object({
      reason: z.enum(REJECT_REASONS as [Payload<'reject'>['reason'], ...Payload<'reject'>['reason'][]]),
      detail: Text,
      topic: Text,
      device: Text.optional(),
      ts: z.number(),
      sample: Text.optional(),
    }),
  ),
  actuatorMode: wire<Payload<'actuatorMode'>>()(z.object({ ...Ref, mode: z.enum(['auto', 'manual']), until: z.number().optional(), by: Text.optional() })),
  actuatorHold: wire<Payload<'actuatorHold'>>()(
    z.discriminatedUnion('change', [
      z.object({ ...Ref, hold: Hold, ts: z.number(), change: z.literal('start'), overrides: z.array(Text) }),
      z.object({ ...Ref, hold: Hold, ts: z.number(), change: z.literal('end'), ended: z.enum(['expired', 'replaced', 'mode']) }),
    ]),
  ),
  actuatorHolders: wire<Payload<'actuatorHolders'>>()(z.object({ ...Ref, holders: z.array(HolderView), ts: z.number() })),
  tagReads: wire<Payload<'tagReads'>>()(z.array(z.object({ ...Ref, ts: z.number(), tag: Text, direction: z.enum(['in', 'out']).optional() })).min(1)),
  headCount: wire<Payload<'headCount'>>()(z.object({ site: Text, zone: Text, headCount: z.number(), out: z.number(), ts: z.number() })),
};

/** Checks a bridged event's payload: the event as the components expect it, or why it is not one. */
export function parseBridgedEvent<E extends BridgedEvent>(event: E, value: unknown): { ok: true; payload: Payload<E> } | { ok: false; problem: string } {
  const parsed = EVENT_SCHEMAS[event].safeParse(value);
  return parsed.success ? { ok: true, payload: parsed.data } : { ok: false, problem: z.prettifyError(parsed.error).slice(0, 500) };
}
