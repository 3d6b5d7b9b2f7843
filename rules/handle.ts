import type { AlertEvent, Command, CommandAction, DeviceRef } from '../core/domain.js';
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
  /** Who holds it on: rule ids and/or "manual:<user>". */
  holders: string[];
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
  | { ok: true; rules: RuleT[]; changed: string[]; kept: string[]; removed: string[] }
  | { ok: false; problems: { path: string; message: string }[] };

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
   * Operator command, published at once with reason `manual:<user>`; the operator becomes a holder (an
   * `off` drops their hold). In auto mode the next change of a rule holding the same actuator may
   * override it, so operators switch to manual first to keep rules away. Throws ActuatorError
   * ('NOT_FOUND' | 'NOT_ACTUATOR') for unknown ids, 'BAD_COMMAND' for `set` without a 0-100 value.
   */
  command(deviceId: string, action: CommandAction, value: number | undefined, user: string): Promise<Command>;
  /**
   * Manual: rules never command the actuator (their alerts still fire). `untilMs` is an absolute epoch-ms
   * expiry; then it reverts to auto and the holders' state is applied. Kept across a restart (with the
   * operators' own holds) in DATA_DIR/actuators.json, written before this returns; throws StateFileError
   * (a StoreError, code STORE_WRITE) when it cannot be written, and then nothing changed.
   */
  setMode(deviceId: string, mode: 'auto' | 'manual', untilMs: number | undefined, user: string): Awaitable<ActuatorView>;
}

export class ActuatorError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'NOT_ACTUATOR' | 'BAD_COMMAND',
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
  setMode(deviceId: string, mode: 'auto' | 'manual', untilMs: number | undefined, user: string): ActuatorView;
}
