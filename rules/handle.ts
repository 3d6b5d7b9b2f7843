import type { AlertEvent, Command, CommandAction, DeviceRef, HolderView, OperatorHoldView } from '../core/domain.js';
import type { RuleT } from './schema.js';

/** What the rules engine offers the API and dashboard. Implemented by createRulesEngine (rules/engine.ts). */
export interface ActuatorView extends DeviceRef {
  type: string;
  mode: 'auto' | 'manual';
  manualUntil?: number;
  /** Last state the actuator itself confirmed (its retained state topic); undefined until it has reported. */
  state?: 'on' | 'off';
  value?: number;
  stateTs?: number;
  /** A command sent and not yet acknowledged. */
  pending?: Command;
  /** Who holds it, deciding holder first ("why is this on?"): rules with what fired them, an operator's hold and its end, fail-safe, floors. */
  holders: HolderView[];
}

/** How long an operator's command holds an actuator in auto mode: an absolute end, or a duration; neither: config `operatorHold`. */
export interface HoldRequest {
  untilMs?: number;
  forMs?: number;
}

/** The command sent, and in auto mode the hold it started (null in manual mode). */
export interface CommandOutcome {
  command: Command;
  hold: OperatorHoldView | null;
}

export interface DryRunEvent {
  ts: number;
  kind: 'fired' | 'escalated' | 'deescalated' | 'cleared';
  site: string;
  zone: string;
  device?: string;
  level?: string;
  /** The metric and value of the sub-condition the event is about (of an `any:`, the one that fired). */
  metric?: string;
  value?: number;
}

export type ReplaceRulesResult =
  { ok: true; rules: RuleT[]; changed: string[]; kept: string[]; removed: string[] } | { ok: false; problems: { path: string; message: string }[] };

/** A value now (the engine in this process) or later (an engine in another process, over MQTT). */
export type Awaitable<T> = T | Promise<T>;

/**
 * The API and dashboard see the engine through this; results may come later when the engine runs in another
 * process. The engine in this process answers at once (LocalRulesHandle, assignable to this).
 */
export interface RulesHandle {
  rules(): Awaitable<RuleT[]>;
  /**
   * Validates (zod; problems name rule index, id and field) and swaps rules in without restarting; unchanged
   * rules keep their state. The new set is saved (DATA_DIR/rules.json) before it takes effect and is used
   * after a restart until the farm file's own rules change; throws StateFileError when it cannot be saved.
   */
  replaceRules(raw: unknown): Awaitable<ReplaceRulesResult>;
  dryRun(raw: unknown, from: number, to: number): Promise<{ ok: true; events: DryRunEvent[] } | { ok: false; problems: { path: string; message: string }[] }>;
  activeAlerts(): Awaitable<AlertEvent[]>;
  acknowledge(alertId: string, user: string): Awaitable<AlertEvent | undefined>;
  actuators(): Awaitable<ActuatorView[]>;
  /**
   * Operator command, published at once with reason `manual:<user>`. In auto mode it is a hold with an end
   * (`request`, else config `operatorHold`): above the rules until then, when the rules take the actuator back;
   * the hold replaces any earlier operator's hold, is kept in DATA_DIR/actuators.json, announced on the bus
   * (`actuatorHold`), and raises a `system:hold` alert while it overrides a rule holding the actuator the other
   * way. In manual mode it is carried out and nothing else. Throws ActuatorError: NOT_FOUND / NOT_ACTUATOR for
   * unknown ids, BAD_COMMAND for `set` without a 0-100 value or a bad end, OUTRANKED when a zone floor or the
   * fail-safe keeps the actuator otherwise; StateFileError when the hold cannot be saved (nothing changed).
   */
  command(deviceId: string, action: CommandAction, value: number | undefined, user: string, request?: HoldRequest): Awaitable<CommandOutcome>;
  /**
   * Manual: rules, floors and fail-safe never command the actuator (their alerts still fire). `untilMs` is an
   * absolute epoch-ms expiry; then it reverts to auto and the holders' state is applied. Either switch ends an
   * operator's hold. Kept across a restart (with the
   * operators' own holds) in DATA_DIR/actuators.json, written before this returns; throws StateFileError
   * (a StoreError, code STORE_WRITE) when it cannot be written, and then nothing changed.
   */
  setMode(deviceId: string, mode: 'auto' | 'manual', untilMs: number | undefined, user: string): Awaitable<ActuatorView>;
}

export class ActuatorError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'NOT_ACTUATOR' | 'BAD_COMMAND' | 'OUTRANKED',
    message: string,
  ) {
    super(message);
    this.name = 'ActuatorError';
  }
}

/** The engine in this process: the same operations, answered synchronously where they can be. */
export interface LocalRulesHandle extends RulesHandle {
  rules(): RuleT[];
  replaceRules(raw: unknown): ReplaceRulesResult;
  activeAlerts(): AlertEvent[];
  acknowledge(alertId: string, user: string): AlertEvent | undefined;
  actuators(): ActuatorView[];
  command(deviceId: string, action: CommandAction, value: number | undefined, user: string, request?: HoldRequest): CommandOutcome;
  setMode(deviceId: string, mode: 'auto' | 'manual', untilMs: number | undefined, user: string): ActuatorView;
}
