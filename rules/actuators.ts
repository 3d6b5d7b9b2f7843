import type { CommandAction } from '../core/domain.js';
import { holderKey, type CommandReason, type Holder } from './holders.js';

/**
 * Who holds each actuator, and what it should therefore be doing. Pure: no clock, no I/O.
 *
 * Reference counting, not last-writer-wins: every active rule instance that actuates a device is a
 * holder, as are an operator and the zone's fail-safe (holders.ts). Policy:
 * - fail-safe wins while it holds (the rules are reasoning on stale data then);
 * - otherwise on wins over off: any holder wanting on (or `set`) keeps it running, because a fan running
 *   too long costs power while a fan stopped too early costs animals; `set` holders give the highest value;
 * - no holder: off.
 * In manual mode nothing is commanded by rules or fail-safe; the holders are still recorded so that the
 * right state is restored when the actuator goes back to auto.
 */
export interface Want {
  action: CommandAction;
  value?: number;
  minOnMs?: number;
  minOffMs?: number;
}

export interface Hold {
  holder: Holder;
  want: Want;
}

export interface Desired {
  action: CommandAction;
  value?: number;
}

export interface LedgerEntry {
  device: string;
  /** By holderKey(holder). */
  holds: Map<string, Hold>;
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

export type Decision =
  | { kind: 'none' }
  | { kind: 'command'; action: CommandAction; value?: number; holder?: Holder }
  | { kind: 'defer'; until: number };

export function createEntry(device: string): LedgerEntry {
  return { device, holds: new Map(), mode: 'auto', periodMinOnMs: 0, periodMinOffMs: 0 };
}

export function hold(e: LedgerEntry, holder: Holder, want: Want): void {
  e.holds.set(holderKey(holder), { holder, want });
}

export function release(e: LedgerEntry, holder: Holder): boolean {
  return e.holds.delete(holderKey(holder));
}

export function operatorHolds(e: LedgerEntry): Hold[] {
  return [...e.holds.values()].filter((h) => h.holder.kind === 'operator');
}

export function releaseOperators(e: LedgerEntry): void {
  for (const [key, h] of e.holds) if (h.holder.kind === 'operator') e.holds.delete(key);
}

const isOn = (d: Desired | undefined) => d !== undefined && d.action !== 'off';

/** The state the holders ask for, and the holder it is on behalf of (for the command's reason). */
export function desired(e: LedgerEntry): Desired & { holder?: Holder } {
  let on: Holder | undefined;
  let set: { holder: Holder; value: number } | undefined;
  for (const { holder, want } of e.holds.values()) {
    if (holder.kind === 'failsafe') return { action: want.action, value: want.value, holder };
    if (want.action === 'on') on ??= holder;
    else if (want.action === 'set' && (!set || (want.value ?? 0) > set.value)) set = { holder, value: want.value ?? 0 };
  }
  if (on) return { action: 'on', holder: on };
  if (set) return { action: 'set', value: set.value, holder: set.holder };
  return { action: 'off' };
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
  if (isOn(want) && !isOn(current) && e.offSince !== undefined) {
    const minOff = Math.max(e.periodMinOffMs, ...onWants(e).map((w) => w.minOffMs ?? 0));
    if (now < e.offSince + minOff) return { kind: 'defer', until: e.offSince + minOff };
  }
  if (!isOn(want) && isOn(current) && e.onSince !== undefined && now < e.onSince + e.periodMinOnMs) {
    return { kind: 'defer', until: e.onSince + e.periodMinOnMs };
  }
  return { kind: 'command', action: want.action, value: want.value, holder: want.holder };
}

function onWants(e: LedgerEntry): Want[] {
  return [...e.holds.values()].map((h) => h.want).filter((w) => w.action !== 'off');
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

export function setMode(e: LedgerEntry, mode: 'auto' | 'manual', until: number | undefined, by: string | undefined): void {
  e.mode = mode;
  e.manualUntil = mode === 'manual' ? until : undefined;
  e.manualBy = mode === 'manual' ? by : undefined;
  // Back to auto: the operator's holds end with manual mode, the rules' holders decide again.
  if (mode === 'auto') releaseOperators(e);
}

/** Ends an expired manual period; returns whether it did (the caller then reconciles). */
export function expireManual(e: LedgerEntry, now: number): boolean {
  if (e.mode !== 'manual' || e.manualUntil === undefined || now < e.manualUntil) return false;
  setMode(e, 'auto', undefined, undefined);
  return true;
}
