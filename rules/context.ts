import type { FarmConfigT } from '../core/config/schema.js';
import type { AlertEvent } from '../core/domain.js';
import type { FarmBus } from '../core/events.js';
import type { FarmIndex } from '../core/farm-index.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import type { LedgerEntry } from './actuators.js';
import type { AlertBook } from './alerts.js';
import type { Clock } from './clock.js';
import type { CommandDispatcher, Publish } from './commands.js';
import type { InstanceSet } from './instances.js';
import type { Notifier } from './notify.js';
import type { BatchWriter } from './persist.js';

/** Options of createRulesEngine, with their defaults in one place. */
export interface RulesEngineOptions {
  topicRoot: string;
  /** How long an actuator has to acknowledge a command before it is sent again. */
  ackTimeoutMs: number;
  /** Re-sends after the first attempt before `actuator not responding`. */
  maxRetries: number;
  /** How often timers (for, clearFor, stale, windows, schedules, ack timeouts, manual expiry) are checked. */
  tickMs: number;
  notifyMaxAttempts: number;
  /** First webhook retry delay; doubles with each attempt. */
  notifyBaseDelayMs: number;
  /** At start every rule's state is rebuilt from at least this much stored history (longer for long for/window). */
  recoverMinMs: number;
  /** ...and at most this much. */
  recoverMaxMs: number;
  /** Open alerts older than this are not looked for at start. */
  restoreAlertsMs: number;
}

export const DEFAULT_OPTIONS: RulesEngineOptions = {
  topicRoot: 'farm',
  ackTimeoutMs: 5000,
  maxRetries: 2,
  tickMs: 1000,
  notifyMaxAttempts: 5,
  notifyBaseDelayMs: 1000,
  recoverMinMs: 10 * 60_000,
  // A baseline condition learns from 14 days of dry weather plus the dry day before them (rules/baseline.ts).
  recoverMaxMs: 16 * 86_400_000,
  restoreAlertsMs: 30 * 86_400_000,
};

/** What the engine's parts share; built once by createRulesEngine. */
export interface EngineContext {
  config: FarmConfigT;
  farm: FarmIndex;
  bus: FarmBus;
  store: Store;
  publish: Publish;
  clock: Clock;
  logger: Logger;
  options: RulesEngineOptions;
  set: InstanceSet;
  book: AlertBook;
  ledger: Map<string, LedgerEntry>;
  dispatcher: CommandDispatcher;
  notifier: Notifier;
  alertLog: BatchWriter<AlertEvent>;
  /** device -> when it last reported (arrival time; seeded from the store's latest values). */
  lastSeen: Map<string, number>;
  /** lastSeen of a device, or of any sensor of a zone when no device is given. */
  seenAt(site: string, zone: string, device?: string): number | undefined;
  startedAt: number;
}

/** Built-in alert owners: not rules, so their `rule` field has a prefix no rule id can have. */
export const SYSTEM_FAILSAFE = 'system:failsafe';
export const SYSTEM_ACTUATOR = 'system:actuator';
/** An operator's hold overriding a rule that holds the actuator the other way (rules/actuation.ts). */
export const SYSTEM_HOLD = 'system:hold';
/** The herd's alerts (rules/herd-watch.ts). */
export const SYSTEM_ANIMAL_MISSING = 'system:animal-missing';
export const SYSTEM_HEAD_COUNT = 'system:head-count';

/**
 * The owner key of each built-in alert in the alert book (rule alerts are owned by their instance key): built here
 * only, never parsed, so the code that raises an alert and restart recovery agree on it.
 */
export const systemOwner = {
  failsafe: (site: string, zone: string) => `failsafe|${site}/${zone}`,
  actuator: (device: string) => `actuator|${device}`,
  hold: (device: string) => `hold|${device}`,
  animal: (tag: string) => `animal|${tag}`,
  headCount: (site: string, zone: string) => `headcount|${site}/${zone}`,
};
