import type { AnimalEntryT } from '../../core/config/schema.js';
import type { FaultSpec } from './faults.js';
import { isActive } from './faults.js';
import { createRng, deriveSeed, type Rng } from './rng.js';

/**
 * The flock of each shed with a gate reader, walking out to pasture in the morning and back in the evening,
 * read at the gate as it passes (simulators/README.md "Flock"). Pure: time goes in, gate reads come out.
 *
 * - Sheep leave at `outHour` and come home at `inHour` (local time of the scenario's weather): lake sheep
 *   kept on grazing go out after the morning feed and are housed before dusk.
 * - They pass the gate in single file, about one a second (with jitter): a race or gate reader reads them one
 *   by one; a flock of 300 takes about 5 minutes.
 * - The reader reports once a second, every tag read in that second in one message with the direction.
 * - At the start the reader reports the flock where it is (a census pass), so the service knows the head count
 *   without waiting for the next walk.
 * Faults: `missed-reads` (the reader misses a share of the animals passing, default 5 %: the animal moves,
 * the service does not know), `lost-tag` (one animal of the shed loses its ear tag at the fault's start and is
 * never read again).
 */
export interface FlockAnimal {
  tag: string;
  site: string;
  zone: string;
}

export interface GateRead {
  site: string;
  zone: string;
  device: string;
  payload: { ts: number; tags: string[]; direction: 'in' | 'out' };
}

export interface FlockOptions {
  outHour?: number;
  inHour?: number;
  /** Animals through a gate per second. */
  passPerSec?: number;
}

interface Pass {
  direction: 'in' | 'out';
  /** Seconds since the start at which each animal still to pass reaches the reader. */
  queue: { tag: string; atSec: number }[];
}

interface ShedFlock {
  site: string;
  zone: string;
  gate: string;
  animals: string[];
  where: 'in' | 'out';
  pass?: Pass;
  lostTags: Set<string>;
  faults: FaultSpec[];
}

export interface Flock {
  /** Gate reads due up to tSec (seconds since the start); `localHourAt(t)` gives the local hour. */
  advance(tSec: number, startTs: number, localHourAt: (tSec: number) => number): GateRead[];
  /** Where each shed's flock is (for tests and summaries). */
  where(site: string, zone: string): 'in' | 'out' | undefined;
  readonly sheds: number;
}

export function createFlock(
  sheds: { site: string; zone: string; gate: string; animals: AnimalEntryT[] }[],
  faults: FaultSpec[],
  seed: number,
  o: FlockOptions = {},
): Flock {
  const outHour = o.outHour ?? 7;
  const inHour = o.inHour ?? 17.5;
  const passPerSec = o.passPerSec ?? 1;
  const rng: Rng = createRng(deriveSeed(seed, 'flock'));
  const flocks: ShedFlock[] = sheds
    .filter((s) => s.animals.length > 0)
    .map((s) => ({
      site: s.site,
      zone: s.zone,
      gate: s.gate,
      animals: s.animals.map((a) => a.tag),
      where: 'in',
      lostTags: new Set(),
      faults: faults.filter((f) => f.device === s.gate),
    }));
  let started = false;

  const wanted = (hour: number): 'in' | 'out' => (hour >= outHour && hour < inHour ? 'out' : 'in');

  function startPass(f: ShedFlock, direction: 'in' | 'out', atSec: number): void {
    let t = atSec;
    const order = [...f.animals].sort(() => rng.next() - 0.5);
    f.pass = { direction, queue: order.map((tag) => ({ tag, atSec: (t += rng.uniform(0.4, 1.6) / passPerSec) })) };
    f.where = direction;
  }

  function missed(f: ShedFlock, tSec: number): boolean {
    const fault = f.faults.find((x) => x.kind === 'missed-reads' && isActive(x, tSec));
    return fault !== undefined && rng.chance(fault.probability ?? 0.05);
  }

  function loseTags(f: ShedFlock, tSec: number): void {
    for (const fault of f.faults) {
      if (fault.kind !== 'lost-tag' || !isActive(fault, tSec) || f.lostTags.size > 0) continue;
      f.lostTags.add(f.animals[Math.floor(rng.next() * f.animals.length)]);
    }
  }

  return {
    sheds: flocks.length,
    where: (site, zone) => flocks.find((f) => f.site === site && f.zone === zone)?.where,
    advance(tSec, startTs, localHourAt) {
      const out: GateRead[] = [];
      for (const f of flocks) {
        if (!started) startPass(f, wanted(localHourAt(0)), 0);
        else if (!f.pass && wanted(localHourAt(tSec)) !== f.where) startPass(f, wanted(localHourAt(tSec)), tSec);
        loseTags(f, tSec);
        const pass = f.pass;
        if (!pass) continue;
        // One message per reader and second: the tags read in that second.
        const bySecond = new Map<number, string[]>();
        while (pass.queue.length > 0 && pass.queue[0].atSec <= tSec) {
          const { tag, atSec } = pass.queue.shift()!;
          if (f.lostTags.has(tag) || missed(f, atSec)) continue;
          const second = Math.floor(atSec);
          bySecond.set(second, [...(bySecond.get(second) ?? []), tag]);
        }
        for (const [second, tags] of bySecond)
          out.push({ site: f.site, zone: f.zone, device: f.gate, payload: { ts: startTs + second * 1000, tags, direction: pass.direction } });
        if (pass.queue.length === 0) f.pass = undefined;
      }
      started = true;
      return out;
    },
  };
}

/**
 * A register for sheds of the given sizes (the demo farm's config/demo-animals.csv, the bench's 45,000): FDX-B
 * numbers with China's ISO 3166 country code 156, ewes with this year's lambs and a few rams, as a lake-sheep
 * breeding flock is kept (about one ram to 30-50 ewes; a ewe raises about two lambs a year).
 */
export function generateRegister(sheds: { zone: string; site?: string; headCount: number }[], seed = 1, firstId = 1): AnimalEntryT[] {
  const rng = createRng(deriveSeed(seed, 'register'));
  const out: AnimalEntryT[] = [];
  let id = firstId;
  const date = (year: number, fromMonth: number, toMonth: number) =>
    `${year}-${String(rng.int(fromMonth, toMonth)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`;
  for (const s of sheds) {
    for (let i = 0; i < s.headCount; i++) {
      const r = rng.next();
      const [group, sex, born] =
        r < 0.03
          ? ['rams', 'm', date(rng.int(2022, 2024), 1, 12)]
          : r < 0.68
            ? ['ewes', 'f', date(rng.int(2020, 2025), 1, 12)]
            : ['lambs', rng.chance(0.5) ? 'f' : 'm', date(2026, 1, 10)];
      out.push({ tag: `156${String(id++).padStart(12, '0')}`, group, born, sex: sex as 'f' | 'm', zone: s.zone, ...(s.site ? { site: s.site } : {}) });
    }
  }
  return out;
}
