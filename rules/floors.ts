import type { FloorT } from '../core/config/schema.js';
import type { FarmIndex } from '../core/farm-index.js';
import { desired, hold, holdOf, operatorHold, release, type LedgerEntry } from './actuators.js';
import type { CommandReason } from './holders.js';
import type { InstanceSet } from './instances.js';

/**
 * Zone floors (config `zones[].floors`, core/config/schema.ts): while one of a floor's rules is active in the
 * zone, at least `atLeast` of the zone's actuators of its type are kept on, as a barn controller keeps minimum
 * ventilation whatever the manual override. The floor holds only what is missing: when the rules (or anything
 * else) already keep enough fans on, it holds nothing.
 */
export interface FloorCandidate {
  device: string;
  mode: 'auto' | 'manual';
  /** What the actuator would do without the floor. */
  onWithoutFloor: boolean;
  /** An operator holds it off (or at a lower setting than the floor's). */
  heldOffByOperator: boolean;
}

/**
 * Pure: the devices the floor must hold. Actuators in manual mode are out of automation (neither counted nor
 * commanded). Fewest overrides first: an actuator nobody holds is taken before one an operator holds off,
 * and otherwise the farm file's order decides, so the choice is stable from one evaluation to the next.
 */
export function floorChoice(atLeast: number, inForce: boolean, candidates: readonly FloorCandidate[]): string[] {
  if (!inForce) return [];
  const auto = candidates.filter((c) => c.mode === 'auto');
  const missing = atLeast - auto.filter((c) => c.onWithoutFloor).length;
  if (missing <= 0) return [];
  const off = auto.filter((c) => !c.onWithoutFloor);
  return [...off.filter((c) => !c.heldOffByOperator), ...off.filter((c) => c.heldOffByOperator)].slice(0, missing).map((c) => c.device);
}

export interface Floors {
  /**
   * Re-decides the floors of one zone (after its holds or its rules changed) and takes or drops the floor
   * holds; returns the actuators whose holds changed, with the reason a command for them carries.
   */
  refresh(site: string, zone: string, now: number): Map<LedgerEntry, CommandReason>;
  /** The floor (and its rule) that would hold this actuator, if any: for refusing an operator command. */
  holding(entry: LedgerEntry): { floor: FloorT; rule: string } | undefined;
}

export function createFloors(deps: { farm: FarmIndex; ledger: Map<string, LedgerEntry>; set: Pick<InstanceSet, 'statesOf'> }): Floors {
  const activeRule = (f: FloorT, site: string, zone: string): string | undefined =>
    f.while.find((id) => deps.set.statesOf(id).some((st) => st.active && st.site === site && st.zone === zone));

  return {
    refresh(site, zone, now) {
      const touched = new Map<LedgerEntry, CommandReason>();
      for (const f of deps.farm.zone(site, zone)?.config.floors ?? []) {
        const entries = deps.farm
          .actuators(site, zone, f.type)
          .map((d) => deps.ledger.get(d.device))
          .filter((e): e is LedgerEntry => e !== undefined);
        const rule = activeRule(f, site, zone);
        const candidates = entries.map((e) => {
          const op = operatorHold(e);
          return {
            device: e.device,
            mode: e.mode,
            onWithoutFloor: desired(e, 'floor').action !== 'off',
            heldOffByOperator: op !== undefined && (op.want.action === 'off' || (f.action === 'set' && (op.want.value ?? 0) < (f.value ?? 0))),
          };
        });
        const chosen = new Set(floorChoice(f.atLeast, rule !== undefined, candidates));
        for (const e of entries) {
          const holder = { kind: 'floor', site, zone, floor: f.id } as const;
          const held = holdOf(e, 'floor').find((h) => h.floor === f.id);
          if (chosen.has(e.device) && rule !== undefined) {
            if (held?.rule === rule) continue;
            hold(e, { ...holder, rule, since: held?.since ?? now, want: { action: f.action, value: f.action === 'set' ? f.value : undefined } });
            touched.set(e, { kind: 'rule', rule });
          } else if (held && release(e, holder)) {
            touched.set(e, { kind: 'rule', rule: held.rule });
          }
        }
      }
      return touched;
    },
    holding(entry) {
      const h = holdOf(entry, 'floor')[0];
      if (!h) return undefined;
      const floor = deps.farm.zone(h.site, h.zone)?.config.floors?.find((f) => f.id === h.floor);
      return floor ? { floor, rule: h.rule } : undefined;
    },
  };
}
