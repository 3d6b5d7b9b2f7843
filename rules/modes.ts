import { z } from 'zod';
import { hold, operatorHold, type LedgerEntry, type OperatorHold } from './actuators.js';
import { parseReason } from './holders.js';

/**
 * What operators decided about actuators, kept across restarts (DATA_DIR/actuators.json): manual mode with its
 * expiry and who set it, and an operator's hold with its end. Rule, floor and fail-safe holds are not kept: they
 * are rebuilt from stored readings and open alerts at start.
 *
 * Version 2 stores the hold as `{user, action, value?, since, until}`. Version 1 (before holds had an end) keyed
 * holds by the operator's command reason (`manual:<user>`); such a hold is read with no `until`, and the engine
 * gives it the configured `operatorHold` from the start, so no hold lasts for ever.
 */
const Action = z.enum(['on', 'off', 'set']);
const SavedHold = z
  .object({ user: z.string().min(1), action: Action, value: z.number().min(0).max(100).optional(), since: z.number(), until: z.number() })
  .strict();
export type SavedHoldT = z.output<typeof SavedHold>;

const SavedActuator = z
  .object({ mode: z.enum(['auto', 'manual']), until: z.number().optional(), by: z.string().optional(), hold: SavedHold.optional() })
  .strict();
type SavedActuatorT = z.output<typeof SavedActuator>;

const V1Hold = z.object({ action: Action, value: z.number().min(0).max(100).optional() }).strict();
const V1 = z
  .object({
    version: z.literal(1),
    actuators: z.record(
      z.string(),
      z
        .object({
          mode: z.enum(['auto', 'manual']),
          until: z.number().optional(),
          by: z.string().optional(),
          holds: z.record(z.string().regex(/^manual:./), V1Hold).optional(),
        })
        .strict(),
    ),
  })
  .strict();

/** A hold from a version 1 file: no since and no until (the engine sets both when it loads it). */
export type UpgradedHold = Omit<SavedHoldT, 'since' | 'until'> & { since?: number; until?: number };
export type SavedActuatorsT = { version: 2; actuators: Record<string, Omit<SavedActuatorT, 'hold'> & { hold?: UpgradedHold }> };

const V2 = z.object({ version: z.literal(2), actuators: z.record(z.string(), SavedActuator) }).strict();

export const SavedActuators: z.ZodType<SavedActuatorsT, unknown> = z.union([
  V2,
  V1.transform((v1): SavedActuatorsT => {
    const actuators: SavedActuatorsT['actuators'] = {};
    for (const [device, a] of Object.entries(v1.actuators)) {
      const [key, want] = Object.entries(a.holds ?? {})[0] ?? [];
      const reason = key ? parseReason(key) : undefined;
      const upgraded =
        reason?.kind === 'operator' && want
          ? { user: reason.user, action: want.action, ...(want.value !== undefined ? { value: want.value } : {}) }
          : undefined;
      actuators[device] = {
        mode: a.mode,
        ...(a.until !== undefined ? { until: a.until } : {}),
        ...(a.by !== undefined ? { by: a.by } : {}),
        ...(upgraded ? { hold: upgraded } : {}),
      };
    }
    return { version: 2, actuators };
  }),
]);

/** The one pair that writes an operator's hold into the file and reads it back into the ledger. */
export function savedHold(h: OperatorHold): SavedHoldT {
  return { user: h.user, action: h.want.action, ...(h.want.action === 'set' ? { value: h.want.value ?? 0 } : {}), since: h.since, until: h.until };
}

export function restoredHold(s: UpgradedHold, defaults: { since: number; until: number }): OperatorHold {
  return { kind: 'operator', user: s.user, want: { action: s.action, value: s.value }, since: s.since ?? defaults.since, until: s.until ?? defaults.until };
}

/** The operator-owned part of the ledger; actuators in auto mode without an operator hold are left out. */
export function snapshotModes(ledger: Iterable<LedgerEntry>): SavedActuatorsT {
  const actuators: SavedActuatorsT['actuators'] = {};
  for (const e of ledger) {
    const h = operatorHold(e);
    if (e.mode === 'auto' && !h) continue;
    const saved: SavedActuatorsT['actuators'][string] = { mode: e.mode };
    if (e.manualUntil !== undefined) saved.until = e.manualUntil;
    if (e.manualBy !== undefined) saved.by = e.manualBy;
    if (h) saved.hold = savedHold(h);
    actuators[e.device] = saved;
  }
  return { version: 2, actuators };
}

/**
 * Puts saved modes and operator holds back into a fresh ledger. Actuators no longer in the farm file are
 * skipped and returned, so the caller can say so. An expiry already past is kept as it is: the first tick
 * ends it and hands the actuator back to the rules, exactly as if the service had been running. A hold saved
 * without an end (version 1) ends `operatorHoldMs` after `now`.
 */
export function restoreModes(ledger: Map<string, LedgerEntry>, saved: SavedActuatorsT, now: number, operatorHoldMs: number): string[] {
  const unknown: string[] = [];
  for (const [device, s] of Object.entries(saved.actuators)) {
    const e = ledger.get(device);
    if (!e) {
      unknown.push(device);
      continue;
    }
    e.mode = s.mode;
    e.manualUntil = s.mode === 'manual' ? s.until : undefined;
    e.manualBy = s.mode === 'manual' ? s.by : undefined;
    if (s.hold) hold(e, restoredHold(s.hold, { since: now, until: now + operatorHoldMs }));
  }
  return unknown;
}

/**
 * Keeps the saved entries of actuators this engine does not run, so that rules processes partitioned by site
 * may share one DATA_DIR without erasing each other's modes (each writes its own actuators, keeps the rest).
 */
export function keepForeign(mine: SavedActuatorsT, previous: SavedActuatorsT | undefined, runs: (device: string) => boolean): SavedActuatorsT {
  for (const [device, saved] of Object.entries(previous?.actuators ?? {})) if (!runs(device)) mine.actuators[device] ??= saved;
  return mine;
}
