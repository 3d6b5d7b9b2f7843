import type { CommandAction } from '../core/domain.js';
import { holderKey, type CommandReason, type Holder } from './holders.js';

/**
 * Who holds each actuator, and what it should therefore be doing. Pure: no clock, no I/O.
 *
 * Reference counting, not last-writer-wins: every active rule instance that actuates a device is a
 * holder, as are an operator, the zone's fail-safe and the zone's floors (holders.ts). Precedence:
 * - fail-safe wins while it holds (the rules are reasoning on stale data then);
 * - then a floor (minimum ventilation: no operator command goes under it);
 * - then an operator's hold, until its end: the operator is standing in the shed and sees what the
 *   sensors do not; the hold always ends (config `operatorHold`), and overriding a rule is announced;
 * - then the rules: on wins over off: any rule wanting on (or `set`) keeps it running, because a fan running
 *   too long costs power while a fan stopped too early costs animals; `set` holders give the highest value;
 * - no holder: off.
 * In manual mode nothing is commanded by rules, floors or fail-safe; the holders are still recorded so that
 * the right state is restored when the actuator goes back to auto.
 */
export interface Want {
  action: CommandAction;
  value?: number;
  minOnMs?: number;
  minOffMs?: number;
}

interface HoldFacts {
  want: Want;
  /** When the holder took the actuator. */
  since: number;
}

/** A holder with what it wants and the facts the "why is this on?" answer needs. */
export type Hold =
  /** `metric` / `reading`: what fired the rule. */
  | (Extract<Holder, { kind: 'rule' }> & HoldFacts & { sensor?: string; metric: string | null; reading: number | null })
  | (Extract<Holder, { kind: 'operator' }> & HoldFacts & { until: number })
  | (Extract<Holder, { kind: 'failsafe' }> & HoldFacts)
  /** `rule`: the active rule that puts the floor in force. */
  | (Extract<Holder, { kind: 'floor' }> & HoldFacts & { rule: string });

export type OperatorHold = Extract<Hold, { kind: 'operator' }>;

/** The reason a command carries when it carries out a hold: a floor's commands are for the rule that put it in force. */
export function reasonOf(h: Hold): CommandReason {
  switch (h.kind) {
    case 'rule':
      return { kind: 'rule', rule: h.rule };
    case 'operator':
      return { kind: 'operator', user: h.user };
    case 'failsafe':
      return { kind: 'failsafe', zone: h.zone };
    case 'floor':
      return { kind: 'rule', rule: h.rule };
  }
}

export interface Desired {
  action: CommandAction;
  value?: number;
}

export interface LedgerEntry {
  device: string;
  /** By holderKey(holder). */
  holds: Map<string, Hold>;
  /** Bumped by every change of the holds, so the engine can announce who holds it when that changed. */
  revision: number;
  mode: 'auto' | 'manual';
  manualUntil?: number;
  manualBy?: string;
  /** What the service last commanded (or the actuator last reported, before the first command). */
  applied?: Desired;
  onSince?: number;
  offSince?: number;
  /** Longest minOn of the holders during the current on period. */
  periodMinOnMs: number;
  /** Longest minOff of the holders of the last on period: respected before switching on again. */
  periodMinOffMs: number;
  /** A change held back by minOn/minOff, to retry at this time, and the reason it will carry. */
  deferUntil?: number;
  deferReason?: CommandReason;
}

export type Decision = { kind: 'none' } | { kind: 'command'; action: CommandAction; value?: number; hold?: Hold } | { kind: 'defer'; until: number };

export function createEntry(device: string): LedgerEntry {
  return { device, holds: new Map(), revision: 0, mode: 'auto', periodMinOnMs: 0, periodMinOffMs: 0 };
}

export function hold(e: LedgerEntry, h: Hold): void {
  e.holds.set(holderKey(h), h);
  e.revision++;
}

export function release(e: LedgerEntry, holder: Holder): boolean {
  const had = e.holds.delete(holderKey(holder));
  if (had) e.revision++;
  return had;
}

export function holdOf<K extends Hold['kind']>(e: LedgerEntry, kind: K): Extract<Hold, { kind: K }>[] {
  return [...e.holds.values()].filter((h): h is Extract<Hold, { kind: K }> => h.kind === kind);
}

/** The operator's hold (a newer command replaces the older one, whoever gave it, so there is at most one). */
export function operatorHold(e: LedgerEntry): OperatorHold | undefined {
  return holdOf(e, 'operator')[0];
}

export function releaseOperators(e: LedgerEntry): OperatorHold[] {
  const gone = holdOf(e, 'operator');
  for (const h of gone) release(e, h);
  return gone;
}

const isOn = (d: Desired | undefined) => d !== undefined && d.action !== 'off';
const RANK: Record<Hold['kind'], number> = { failsafe: 0, floor: 1, operator: 2, rule: 3 };

/**
 * The state the holds ask for, and the hold it carries out (for the command's reason and the "why"): the
 * holder of the highest precedence decides; among rules, on wins over set (the highest value) over off.
 * `without` leaves one kind of holder out (a floor asks what the actuator would do without it).
 */
export function desired(e: LedgerEntry, without?: Hold['kind']): Desired & { hold?: Hold } {
  let top: Hold | undefined;
  let on: Hold | undefined;
  let set: Hold | undefined;
  for (const h of e.holds.values()) {
    if (h.kind === without) continue;
    if (h.kind !== 'rule') {
      if (!top || RANK[h.kind] < RANK[top.kind]) top = h;
      continue;
    }
    if (h.want.action === 'on') on ??= h;
    else if (h.want.action === 'set' && (!set || (h.want.value ?? 0) > (set.want.value ?? 0))) set = h;
  }
  const chosen = top ?? on ?? set;
  if (!chosen) return { action: 'off' };
  return chosen.want.action === 'set' ? { action: 'set', value: chosen.want.value ?? 0, hold: chosen } : { action: chosen.want.action, hold: chosen };
}

/**
 * What to do now: nothing, a command, or wait until minOn/minOff allow it. Switching on waits out the
 * minimum off time, switching off the minimum on time; changing a `set` value while running does not.
 */
export function decide(e: LedgerEntry, now: number): Decision {
  if (e.mode === 'manual') return { kind: 'none' };
  const want = desired(e);
  const current = e.applied ?? { action: 'off' };
  if (want.action === current.action && (want.action !== 'set' || want.value === current.value)) return { kind: 'none' };
  // An operator's command takes effect at once: minOn/minOff protect equipment from the rules' chatter, not
  // from a person who decided.
  if (want.hold?.kind === 'operator') return { kind: 'command', action: want.action, value: want.value, hold: want.hold };
  if (isOn(want) && !isOn(current) && e.offSince !== undefined) {
    const minOff = Math.max(e.periodMinOffMs, ...onWants(e).map((w) => w.minOffMs ?? 0));
    if (now < e.offSince + minOff) return { kind: 'defer', until: e.offSince + minOff };
  }
  if (!isOn(want) && isOn(current) && e.onSince !== undefined && now < e.onSince + e.periodMinOnMs) {
    return { kind: 'defer', until: e.onSince + e.periodMinOnMs };
  }
  return { kind: 'command', action: want.action, value: want.value, hold: want.hold };
}

function onWants(e: LedgerEntry): Want[] {
  return [...e.holds.values()].map((h) => h.want).filter((w) => w.action !== 'off');
}

/**
 * Ends an operator hold whose time is up; returns it (the caller saves, announces and reconciles). Ends in
 * manual mode too: an expired hold must not come back to life when the actuator returns to auto.
 */
export function expireHold(e: LedgerEntry, now: number): OperatorHold | undefined {
  const h = operatorHold(e);
  if (!h || now < h.until) return undefined;
  release(e, h);
  return h;
}

/** Records a command as the actuator's intended state and starts the on/off period clocks. */
export function applied(e: LedgerEntry, d: Desired, now: number): void {
  const wasOn = isOn(e.applied);
  e.applied = { action: d.action, value: d.value };
  e.deferUntil = undefined;
  if (isOn(d) && !wasOn) {
    e.onSince = now;
    e.periodMinOnMs = 0;
    e.periodMinOffMs = 0;
  } else if (!isOn(d) && wasOn) {
    e.offSince = now;
  }
  noteHolders(e);
}

/** While on, every holder's minOn/minOff joins the period's (a rule that joins later still gets its minimum). */
export function noteHolders(e: LedgerEntry): void {
  if (!isOn(e.applied)) return;
  for (const w of onWants(e)) {
    e.periodMinOnMs = Math.max(e.periodMinOnMs, w.minOnMs ?? 0);
    e.periodMinOffMs = Math.max(e.periodMinOffMs, w.minOffMs ?? 0);
  }
}

/** The actuator's own report, used as the starting point before the service has commanded it. */
export function reported(e: LedgerEntry, d: Desired, now: number): void {
  if (e.applied) return;
  e.applied = { action: d.action, value: d.value };
  if (isOn(d)) e.onSince = now;
  else e.offSince = undefined; // unknown off time: do not hold a first switch-on back
}

/**
 * Switches mode; returns the operator holds that ended with it. A mode switch is a new decision about the
 * actuator, so an operator's hold ends either way: in manual mode the operator commands it directly, and back
 * in auto the rules decide again.
 */
export function setMode(e: LedgerEntry, mode: 'auto' | 'manual', until: number | undefined, by: string | undefined): OperatorHold[] {
  e.mode = mode;
  e.manualUntil = mode === 'manual' ? until : undefined;
  e.manualBy = mode === 'manual' ? by : undefined;
  return releaseOperators(e);
}

/** Ends an expired manual period; returns whether it did (the caller then reconciles). */
export function expireManual(e: LedgerEntry, now: number): boolean {
  if (e.mode !== 'manual' || e.manualUntil === undefined || now < e.manualUntil) return false;
  setMode(e, 'auto', undefined, undefined);
  return true;
}
