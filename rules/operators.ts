import type { ActuatorState, CommandAction, DeviceRef, OperatorHoldView } from '../core/domain.js';
import { applied, desired, expireHold, expireManual, hold, holdOf, releaseOperators, setMode, type LedgerEntry, type OperatorHold } from './actuators.js';
import { holderView, wantText, type Actuation } from './actuation.js';
import type { EngineContext } from './context.js';
import type { DurableState } from './durable.js';
import type { Floors } from './floors.js';
import { ActuatorError, type ActuatorView, type CommandOutcome, type HoldRequest } from './handle.js';
import { formatReason, type CommandReason } from './holders.js';

/**
 * What operators do to actuators (API and dashboard): commands, which in auto mode are holds with an end,
 * auto/manual mode, and the views that say who holds what. Also ends holds and manual periods on time.
 *
 * A command in auto mode holds the actuator until `until` (default: config `operatorHold`, 30 min), above the
 * rules; then the rules take it back. A command that a floor or the fail-safe would not let through is refused
 * (ActuatorError OUTRANKED), so the operator is told at once instead of seeing the actuator ignore them. In
 * manual mode a command is simply carried out: manual mode is the explicit way out of automation.
 */
export interface Operators {
  command(deviceId: string, action: CommandAction, value: number | undefined, user: string, request?: HoldRequest): CommandOutcome;
  setMode(deviceId: string, mode: 'auto' | 'manual', untilMs: number | undefined, user: string): ActuatorView;
  actuators(): ActuatorView[];
  /** Ends holds and manual periods whose time is up; retries changes minOn/minOff held back. */
  tick(now: number): void;
}

type Deps = Pick<EngineContext, 'farm' | 'bus' | 'config' | 'clock' | 'logger' | 'ledger' | 'dispatcher'> & {
  durable: DurableState;
  actuation: Actuation;
  floors: Floors;
  reports: Map<string, ActuatorState>;
};

/** No hold longer than a week: a forgotten one must still end (the same bound as manual mode's forMinutes). */
const MAX_HOLD_MS = 7 * 86_400_000;

export function createOperators(deps: Deps): Operators {
  const { ledger, dispatcher, durable, actuation, floors } = deps;

  function actuator(deviceId: string): { entry: LedgerEntry; ref: DeviceRef & { type?: string } } {
    const d = deps.farm.device(deviceId);
    if (!d) throw new ActuatorError('NOT_FOUND', `no device "${deviceId}" in the farm configuration`);
    const entry = ledger.get(deviceId);
    if (d.role !== 'actuator' || !entry) throw new ActuatorError('NOT_ACTUATOR', `"${deviceId}" is a sensor; only actuators take commands`);
    return { entry, ref: { site: d.site, zone: d.zone, kind: d.kind, device: d.device, type: d.type } };
  }

  const refOf = (ref: DeviceRef) => ({ site: ref.site, zone: ref.zone, kind: ref.kind, device: ref.device });
  const holdFacts = (h: OperatorHold) => ({
    user: h.user,
    action: h.want.action,
    ...(h.want.action === 'set' ? { value: h.want.value ?? 0 } : {}),
    since: h.since,
    until: h.until,
  });

  function view(entry: LedgerEntry): ActuatorView {
    const { ref } = actuator(entry.device);
    const r = deps.reports.get(entry.device);
    const v: ActuatorView = { ...refOf(ref), type: ref.type ?? '', mode: entry.mode, holders: actuation.holders(entry) };
    if (entry.manualUntil !== undefined) v.manualUntil = entry.manualUntil;
    if (r) Object.assign(v, { state: r.state, value: r.value, stateTs: r.ts });
    const pending = dispatcher.pending(entry.device);
    if (pending) v.pending = pending;
    return v;
  }

  function emitMode(entry: LedgerEntry, by: string | undefined): void {
    const { ref } = actuator(entry.device);
    deps.bus.emit('actuatorMode', { ...refOf(ref), mode: entry.mode, until: entry.manualUntil, by });
  }

  function holdEnded(ref: DeviceRef, ended: OperatorHold[], why: 'expired' | 'replaced' | 'mode', now: number): void {
    for (const h of ended) deps.bus.emit('actuatorHold', { ...refOf(ref), change: 'end', ended: why, hold: holdFacts(h), ts: now });
  }

  /** Saves the modes after a change; undoes it (and rethrows) when it cannot be saved, so the API does not lie. */
  function saveOrUndo(undo: () => void): void {
    try {
      durable.saveModes();
    } catch (err) {
      undo();
      throw err;
    }
  }

  /** Why a hold would not take effect: the floor or the fail-safe that keeps the actuator otherwise. */
  function outranked(entry: LedgerEntry, ref: DeviceRef, wanted: string): ActuatorError {
    const by = desired(entry).hold;
    if (by?.kind === 'floor') {
      const f = floors.holding(entry);
      const what = f ? `at least ${f.floor.atLeast} ${f.floor.type}${f.floor.atLeast > 1 ? 's' : ''} ${wantText(by.want)}` : wantText(by.want);
      return new ActuatorError(
        'OUTRANKED',
        `${ref.zone} keeps ${what} while ${by.rule} is active (floor "${by.floor}"), so ${ref.device} stays ${wantText(by.want)} instead of ${wanted}. To take it out of automation (e.g. for maintenance), switch it to manual mode first.`,
      );
    }
    return new ActuatorError(
      'OUTRANKED',
      `${ref.zone} is in fail-safe (its sensors are silent), which keeps ${ref.device} ${wantText(by?.want ?? { action: 'off' })} until they report again. To command it anyway, switch it to manual mode first.`,
    );
  }

  function expire(entry: LedgerEntry, now: number): void {
    const { ref } = actuator(entry.device);
    const hold = expireHold(entry, now);
    const manual = expireManual(entry, now);
    if (!hold && !manual) return;
    try {
      durable.saveModes();
    } catch (err) {
      deps.logger.error(
        { err, device: entry.device },
        'a hold or manual period ended but could not be saved: after a restart it would be back until its end passes again',
      );
    }
    if (hold) holdEnded(ref, [hold], 'expired', now);
    if (manual) emitMode(entry, undefined);
    const cause: CommandReason = { kind: 'auto', cause: manual ? 'manual-ended' : 'hold-ended' };
    actuation.settle([[entry, cause]], now);
  }

  return {
    command(deviceId, action, value, user, request = {}) {
      const { entry, ref } = actuator(deviceId);
      if (action === 'set' && (value === undefined || !(value >= 0 && value <= 100)))
        throw new ActuatorError('BAD_COMMAND', 'a set command needs a value from 0 to 100');
      const setValue = action === 'set' ? value : undefined;
      const now = deps.clock.now();
      const reason = formatReason({ kind: 'operator', user });
      if (entry.mode === 'manual') {
        if (request.untilMs !== undefined || request.forMs !== undefined)
          throw new ActuatorError(
            'BAD_COMMAND',
            `${deviceId} is in manual mode: a command lasts until it goes back to auto. Leave out until / forMinutes, or switch it to auto first.`,
          );
        const command = dispatcher.send(ref, action, setValue, reason, now);
        applied(entry, { action, value: setValue }, now);
        return { command, hold: null };
      }
      const until = request.untilMs ?? now + (request.forMs ?? deps.config.operatorHold);
      if (!(until > now)) throw new ActuatorError('BAD_COMMAND', '"until" is not in the future: give a later time, or forMinutes.');
      if (until > now + MAX_HOLD_MS)
        throw new ActuatorError(
          'BAD_COMMAND',
          'a hold lasts at most 7 days: give an earlier "until". To keep an actuator away from the rules longer, switch it to manual mode.',
        );
      const next: OperatorHold = { kind: 'operator', user, want: { action, value: setValue }, since: now, until };
      const before = new Map(entry.holds);
      const undo = () => {
        entry.holds = new Map(before);
        entry.revision++;
        floors.refresh(ref.site, ref.zone, now);
      };
      const replaced = releaseOperators(entry);
      hold(entry, next);
      // With the new hold in place, would a floor (or the fail-safe) keep the actuator otherwise?
      const floorChanges = floors.refresh(ref.site, ref.zone, now);
      const after = desired(entry);
      if (after.hold !== next && (after.action !== action || after.value !== setValue)) {
        const refused = outranked(entry, ref, wantText(next.want));
        undo();
        throw refused;
      }
      saveOrUndo(undo);
      holdEnded(ref, replaced, 'replaced', now);
      const overrides = [
        ...new Set(
          holdOf(entry, 'rule')
            .filter((r) => (r.want.action === 'off') !== (action === 'off'))
            .map((r) => r.rule),
        ),
      ];
      deps.bus.emit('actuatorHold', { ...refOf(ref), change: 'start', overrides, hold: holdFacts(next), ts: now });
      // The operator's command goes out at once, even if the actuator already seems to be in that state.
      const command = dispatcher.send(ref, action, setValue, reason, now);
      applied(entry, { action, value: setValue }, now);
      actuation.settle([[entry, undefined], ...floorChanges], now);
      return { command, hold: holderView(next, desired(entry).hold === next) as OperatorHoldView };
    },

    setMode(deviceId, mode, untilMs, user) {
      const { entry, ref } = actuator(deviceId);
      const now = deps.clock.now();
      let ended: OperatorHold[] = [];
      durable.change(entry, () => {
        ended = setMode(entry, mode, mode === 'manual' ? untilMs : undefined, user);
      });
      holdEnded(ref, ended, 'mode', now);
      emitMode(entry, user);
      // Back to auto: the holders' state; to manual: nothing is commanded, but floors may turn to another fan.
      actuation.settle([[entry, mode === 'auto' ? { kind: 'auto', cause: 'manual-ended' } : undefined]], now);
      return view(entry);
    },

    actuators: () => [...ledger.values()].map(view),

    tick(now) {
      for (const entry of ledger.values()) {
        expire(entry, now);
        if (entry.deferUntil !== undefined && now >= entry.deferUntil) actuation.settle([[entry, undefined]], now);
      }
    },
  };
}
