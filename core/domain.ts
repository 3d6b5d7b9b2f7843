/** Domain types shared by every component (SPEC "Identity", "MQTT topics"). */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const ZONE_KINDS = ['shed', 'field', 'drain'] as const;
export type ZoneKind = (typeof ZONE_KINDS)[number];

export const ACTUATOR_TYPES = ['fan', 'spray', 'shutter', 'pump', 'valve'] as const;
export type ActuatorType = (typeof ACTUATOR_TYPES)[number];

export type DeviceRole = 'sensor' | 'actuator' | 'reader';

/** Where an ear-tag reader sits: a gate reader tells the direction an animal passed, a pen or feeder reader does not. */
export const READER_PLACES = ['gate', 'pen', 'feeder'] as const;
export type ReaderPlace = (typeof READER_PLACES)[number];
export type GateDirection = 'in' | 'out';

/** Where a device sits: every reading and event carries it. */
export interface DeviceRef {
  site: string;
  zone: string;
  kind: ZoneKind;
  device: string;
}

/** One validated reading of one device at one instant: one or more metrics. */
export interface Reading extends DeviceRef {
  ts: number; // epoch ms
  metrics: Record<string, number>;
}

/**
 * One ear tag read by one reader at one instant (SPEC "Tag reads"): a message with N tags is N of these.
 * (device, tag, ts) is its identity: the same read delivered twice is one read. `direction` only from a gate reader.
 */
export interface TagRead extends DeviceRef {
  ts: number; // epoch ms
  tag: string; // FDX-B: 15 digits; UHF EPC: upper-case hex
  direction?: GateDirection;
}

export type CommandAction = 'on' | 'off' | 'set';

export interface Command {
  id: string;
  action: CommandAction;
  value?: number;
  /** `rule:<id>` | `manual:<user>` | `failsafe:<zone>` | `auto:<cause>` (rules/holders.ts says what each means). */
  reason: string;
  ts: number;
}

/**
 * Who keeps an actuator in its state, as the API and the dashboard show it ("why is this on?"). `decides` marks
 * the holder whose wish the actuator carries out (precedence: fail-safe, floor, operator, rules).
 * - rule: an active rule instance, with the metric and reading that fired it (`since`);
 * - operator: a person's command in auto mode, a hold that ends at `until` (then the rules take over again);
 * - failsafe: all sensors of the zone silent (zone `failsafe`);
 * - floor: the zone's floor (e.g. minimum ventilation) kept while one of its rules is active, even against an
 *   operator's hold.
 */
export type HolderView =
  | {
      kind: 'rule';
      rule: string;
      sensor?: string;
      action: CommandAction;
      value?: number;
      since: number;
      metric: string | null;
      reading: number | null;
      decides: boolean;
    }
  | { kind: 'operator'; user: string; action: CommandAction; value?: number; since: number; until: number; decides: boolean }
  | { kind: 'failsafe'; zone: string; action: CommandAction; value?: number; since: number; decides: boolean }
  | { kind: 'floor'; floor: string; rule: string; action: CommandAction; value?: number; since: number; decides: boolean };

export type OperatorHoldView = Extract<HolderView, { kind: 'operator' }>;

/**
 * An operator's hold on an actuator started or ended (FarmBus `actuatorHold`): for the audit log and the
 * dashboard. `overrides`: the rules that held the actuator the other way when the hold started.
 */
export type ActuatorHoldEvent = DeviceRef & {
  hold: Omit<OperatorHoldView, 'kind' | 'decides'>;
  ts: number;
} & ({ change: 'start'; overrides: string[] } | { change: 'end'; ended: 'expired' | 'replaced' | 'mode' });

export interface ActuatorState {
  state: 'on' | 'off';
  value?: number;
  ack?: string;
  ts: number;
}

export type Severity = 'info' | 'warning' | 'critical';
export type AlertState = 'raised' | 'escalated' | 'acknowledged' | 'cleared';

/**
 * One change of an alert (SPEC "Alert event"). `level`, `value` and `metric` are always present, null where the
 * alert has none (an ungraded rule has no level; a silent sensor or an actuator that does not answer has no
 * value). `value` and `metric` are those of the condition the event is about: on a raise the sub-condition that
 * fired, on a clear the value that cleared it.
 */
export interface AlertEvent {
  id: string;
  rule: string;
  site: string;
  zone: string;
  device?: string;
  severity: Severity;
  level: string | null;
  state: AlertState;
  value: number | null;
  metric: string | null;
  /** In the rule's default language (English when the rule gives both). */
  message: string;
  /** Both languages, when the rule's alert message is `{ en, zh }`: the page and notifications pick one. */
  messages?: { en: string; zh: string };
  ts: number;
  by?: string; // who acknowledged
  animal?: string; // the ear tag, for an alert about one animal (missing)
  /**
   * When the alert was raised (epoch ms). `ts` is the time of this event, so an acknowledgement or escalation
   * moves `ts`; screens show both ("raised 13:51, acknowledged 14:02"). Absent in events stored before it existed.
   */
  raisedAt?: number;
  /** What a built-in alert is about, so a screen can tell it in the reader's language (the `message` is English). */
  detail?: AlertDetail;
}

/**
 * The facts of a built-in alert (`system:*` rules), from which screens write its text in either language:
 * - actuator: a command was not acknowledged after `attempts` tries ("actuator not responding");
 * - failsafe: every sensor of the zone silent for `afterMs`, the actuators put into their fail-safe state;
 * - hold: an operator's hold (`user`, `action`/`value`, `until`) goes against rules that want the actuator `want`;
 * - animal-missing: no reader saw the animal for `missingAfterMs` (`last`: its last read, if any);
 * - head-count: the zone counts `counted` animals, `expected` expected, for longer than `graceMs` (`out` at pasture).
 */
export type AlertDetail =
  | { kind: 'actuator'; action: CommandAction; value?: number; attempts: number }
  | { kind: 'failsafe'; afterMs: number; actuators: { type: ActuatorType; action: 'on' | 'off' }[] }
  | { kind: 'hold'; user: string; action: CommandAction; value?: number; until: number; rules: string[]; want: CommandAction; wantValue?: number }
  | {
      kind: 'animal-missing';
      tag: string;
      group?: string;
      missingAfterMs: number;
      last?: { device: string; zone: string; direction?: GateDirection; agoMs: number };
    }
  | { kind: 'head-count'; counted: number; expected: number; out: number; graceMs: number };

/**
 * An alert event as stored by an older version, which left `level`, `value` and `metric` out where there were none.
 * Readers of the alert history pass what they read through this.
 */
export function withAlertDefaults(e: Omit<AlertEvent, 'level' | 'value' | 'metric'> & Partial<Pick<AlertEvent, 'level' | 'value' | 'metric'>>): AlertEvent {
  return { ...e, level: e.level ?? null, value: e.value ?? null, metric: e.metric ?? null };
}

export type DeviceStatus = 'online' | 'offline';
