import type { TagRead } from '../core/domain.js';
import type { AnimalEntryT } from '../core/config/schema.js';

/**
 * The herd as the readers tell it, as plain data and pure steps (no I/O, no clock): which animals the register
 * holds, each tag's newest read and newest gate read, and how many animals each zone holds.
 *
 * Where an animal is (README "Ear tags"): its newest gate read places it. An `in` read at a zone's gate puts it
 * in that zone; an `out` read puts it outside, through that zone's gate (out at pasture): it is then counted in
 * no zone, and remembered as out of that zone. Pen and feeder reads say the animal was seen (lastSeen) but move
 * nothing. An animal never read at a gate is unplaced. Reads arrive out of order (a reader's buffer after a
 * reconnect): only a newer read moves anything, so the result is the same whatever the order, and a read
 * delivered twice changes nothing the second time.
 */
export interface Animal extends AnimalEntryT {
  site: string;
  /** farm-file: from `animals.register` / `registerFile`; import: from POST /api/animals/import. */
  source: 'farm-file' | 'import';
}

export type Location =
  { state: 'in'; site: string; zone: string; since: number } | { state: 'out'; site: string; zone: string; since: number } | { state: 'unplaced' };

export interface TagState {
  tag: string;
  /** Undefined: a tag the register does not know (kept and listed, never dropped). */
  animal?: Animal;
  last?: TagRead;
  lastGate?: TagRead;
}

export interface ZoneCount {
  /** Animals (and unknown tags) whose newest gate read put them in the zone: its head count. */
  in: number;
  /** Animals whose newest gate read took them out through this zone's gate. */
  out: number;
  /** Of `in`, tags the register does not know. */
  unknownIn: number;
}

export interface HerdModel {
  tags: Map<string, TagState>;
  counts: Map<string, ZoneCount>;
}

export const zoneKey = (site: string, zone: string) => `${site}/${zone}`;

export function createHerdModel(): HerdModel {
  return { tags: new Map(), counts: new Map() };
}

export function locationOf(lastGate: TagRead | undefined): Location {
  if (!lastGate?.direction) return { state: 'unplaced' };
  return { state: lastGate.direction, site: lastGate.site, zone: lastGate.zone, since: lastGate.ts };
}

/** The same order everywhere (store, replay, live): later ts wins; at the same ms the larger device id. */
export function isNewer(a: TagRead, b: TagRead | undefined): boolean {
  return !b || a.ts > b.ts || (a.ts === b.ts && a.device > b.device);
}

function countOf(model: HerdModel, key: string): ZoneCount {
  let c = model.counts.get(key);
  if (!c) model.counts.set(key, (c = { in: 0, out: 0, unknownIn: 0 }));
  return c;
}

function shift(model: HerdModel, state: TagState, by: 1 | -1): string | undefined {
  const where = locationOf(state.lastGate);
  if (where.state === 'unplaced') return undefined;
  const key = zoneKey(where.site, where.zone);
  const c = countOf(model, key);
  c[where.state] += by;
  if (where.state === 'in' && !state.animal) c.unknownIn += by;
  return key;
}

function stateOf(model: HerdModel, tag: string): TagState {
  let s = model.tags.get(tag);
  if (!s) model.tags.set(tag, (s = { tag }));
  return s;
}

/** Takes one read into the model; returns the zones whose counts changed (none, one or two). */
export function applyRead(model: HerdModel, read: TagRead): string[] {
  const state = stateOf(model, read.tag);
  if (isNewer(read, state.last)) state.last = read;
  if (!read.direction || !isNewer(read, state.lastGate)) return [];
  const before = state.lastGate;
  const from = shift(model, state, -1);
  state.lastGate = read;
  const to = shift(model, state, 1);
  // An `in` after an `in` at the same zone (a sheep lingering in the gate) moved nothing.
  if (before?.direction === read.direction && from === to) return [];
  return [...new Set([from, to].filter((k): k is string => k !== undefined))];
}

/** Puts an animal in the register (new or changed); its reads stay. Returns the zones whose counts changed. */
export function registerAnimal(model: HerdModel, animal: Animal): string[] {
  const state = stateOf(model, animal.tag);
  const wasUnknown = !state.animal;
  state.animal = animal;
  const where = locationOf(state.lastGate);
  if (!wasUnknown || where.state !== 'in') return [];
  const key = zoneKey(where.site, where.zone);
  countOf(model, key).unknownIn -= 1;
  return [key];
}

/** Restart: a tag's position as the store has it (store.tagPositions). */
export function restorePosition(model: HerdModel, tag: string, last: TagRead, lastGate: TagRead | undefined): void {
  const state = stateOf(model, tag);
  if (isNewer(last, state.last)) state.last = last;
  if (lastGate && isNewer(lastGate, state.lastGate)) {
    shift(model, state, -1);
    state.lastGate = lastGate;
    shift(model, state, 1);
  }
}

export function zoneCount(model: HerdModel, site: string, zone: string): ZoneCount {
  return model.counts.get(zoneKey(site, zone)) ?? { in: 0, out: 0, unknownIn: 0 };
}
