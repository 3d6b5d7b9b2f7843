import { z } from 'zod';
import { hold, operatorHolds, type Hold, type LedgerEntry } from './actuators.js';
import { formatReason, parseReason } from './holders.js';

/**
 * What an operator decided about actuators, kept across restarts (DATA_DIR/actuators.json): manual mode with
 * its expiry and who set it, and operators' own holds (keyed `manual:<user>`, the operator's command reason).
 * Rule and fail-safe holds are not kept: they are rebuilt from stored readings and open alerts at start.
 */
const SavedHold = z.object({ action: z.enum(['on', 'off', 'set']), value: z.number().min(0).max(100).optional() }).strict();

const SavedActuator = z
  .object({
    mode: z.enum(['auto', 'manual']),
    until: z.number().optional(),
    by: z.string().optional(),
    holds: z.record(z.string().regex(/^manual:./), SavedHold).optional(),
  })
  .strict();

export const SavedActuators = z.object({ version: z.literal(1), actuators: z.record(z.string(), SavedActuator) }).strict();
export type SavedActuatorsT = z.output<typeof SavedActuators>;

/** The operator-owned part of the ledger; actuators in auto mode without operator holds are left out. */
export function snapshotModes(ledger: Iterable<LedgerEntry>): SavedActuatorsT {
  const actuators: SavedActuatorsT['actuators'] = {};
  for (const e of ledger) {
    const holds = Object.fromEntries(operatorHolds(e).flatMap(savedHold));
    if (e.mode === 'auto' && Object.keys(holds).length === 0) continue;
    const saved: SavedActuatorsT['actuators'][string] = { mode: e.mode };
    if (e.manualUntil !== undefined) saved.until = e.manualUntil;
    if (e.manualBy !== undefined) saved.by = e.manualBy;
    if (Object.keys(holds).length > 0) saved.holds = holds;
    actuators[e.device] = saved;
  }
  return { version: 1, actuators };
}

/**
 * Puts saved modes and operator holds back into a fresh ledger. Actuators no longer in the farm file are
 * skipped and returned, so the caller can say so. An expiry already past is kept as it is: the first tick
 * ends it and hands the actuator back to the rules, exactly as if the service had been running.
 */
export function restoreModes(ledger: Map<string, LedgerEntry>, saved: SavedActuatorsT): string[] {
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
    for (const saved of Object.entries(s.holds ?? {})) {
      const h = restoredHold(saved);
      if (h) hold(e, h.holder, h.want);
    }
  }
  return unknown;
}

/** The one pair that writes an operator's hold into the file and reads it back. */
function savedHold({ holder, want }: Hold): [string, z.output<typeof SavedHold>][] {
  if (holder.kind !== 'operator') return [];
  return [[formatReason({ kind: 'operator', user: holder.user }), want.value === undefined ? { action: want.action } : { action: want.action, value: want.value }]];
}

function restoredHold([key, saved]: [string, z.output<typeof SavedHold>]): Hold | undefined {
  const reason = parseReason(key);
  if (reason?.kind !== 'operator') return undefined;
  return { holder: { kind: 'operator', user: reason.user }, want: { action: saved.action, value: saved.value } };
}

/**
 * Keeps the saved entries of actuators this engine does not run, so that rules processes partitioned by site
 * may share one DATA_DIR without erasing each other's modes (each writes its own actuators, keeps the rest).
 */
export function keepForeign(mine: SavedActuatorsT, previous: SavedActuatorsT | undefined, runs: (device: string) => boolean): SavedActuatorsT {
  for (const [device, saved] of Object.entries(previous?.actuators ?? {})) if (!runs(device)) mine.actuators[device] ??= saved;
  return mine;
}
