import type { FarmConfigT } from '../core/config/schema.js';
import type { TagRead } from '../core/domain.js';
import type { FarmBus } from '../core/events.js';
import type { FarmIndex } from '../core/farm-index.js';
import type { Logger } from '../core/logger.js';
import { tagScheme, type TagScheme } from '../core/tags.js';
import type { Store } from '../store/store.js';
import { parseAnimalsCsv, type CsvRejection } from './csv.js';
import { importedAnimalsFile, type ImportedAnimalT } from './imported.js';
import { applyRead, createHerdModel, locationOf, registerAnimal, restorePosition, zoneCount, zoneKey, type Animal, type TagState } from './register.js';

/**
 * The herd (SPEC "Animals"): the ear-tag register (farm file + imports), every tag's newest reads, and each
 * zone's live head count. Fed by ingest's `tagReads` events; rebuilt at start from the store's tag positions,
 * so head counts and animal zones are right again after a restart. Emits `headCount` when a zone's count
 * changes. The rules engine reads it to raise missing-animal and head-count alerts; the dashboard to answer
 * the Animals routes.
 */
export interface HerdDeps {
  config: Pick<FarmConfigT, 'animals' | 'sites'>;
  farm: FarmIndex;
  store: Pick<Store, 'tagPositions' | 'tagReads'>;
  bus: FarmBus;
  logger: Logger;
  clock?: { now(): number };
  /** Where imported animals are kept (DATA_DIR/animals.json); without it they last until a restart. */
  dataDir?: string;
}

export interface HerdOptions {
  /** How far back start-up looks for tags' positions (default 400 days: a whole grazing year). */
  positionsLookbackMs?: number;
}

export interface AnimalView {
  tag: string;
  scheme: TagScheme;
  /** False: a tag the register does not know (read, kept, listed). */
  known: boolean;
  group?: string;
  born?: string;
  sex?: 'f' | 'm';
  site?: string;
  /** The zone the animal belongs to (register). */
  home?: string;
  /** in: in `zone`; out: left through `zone`'s gate (out at pasture); unplaced: never read at a gate. */
  location: 'in' | 'out' | 'unplaced';
  zone?: string;
  /** When the gate read that placed it was taken. */
  since?: number;
  lastSeen?: number;
  lastSeenBy?: string;
  lastSeenZone?: string;
  /** Not read by any reader for `animals.missingAfter` (counted from registration when never read). */
  missing: boolean;
}

export interface AnimalFilter {
  site?: string;
  /** Only animals in these sites (a site-limited user's); an animal placed in no site is left out. */
  sites?: readonly string[];
  zone?: string;
  group?: string;
  q?: string;
  show?: 'all' | 'registered' | 'unknown' | 'missing';
  limit?: number;
  offset?: number;
}

export interface ZoneHeadCount {
  site: string;
  zone: string;
  headCount: number;
  out: number;
  unknown: number;
}

export interface ImportResult {
  lines: number;
  added: number;
  updated: number;
  unchanged: number;
  rejected: CsvRejection[];
}

export interface Herd {
  start(): Promise<void>;
  stop(): void;
  readonly missingAfterMs: number;
  list(filter: AnimalFilter): { total: number; animals: AnimalView[] };
  animal(tag: string): AnimalView | undefined;
  headCounts(site?: string): ZoneHeadCount[];
  headCount(site: string, zone: string): ZoneHeadCount;
  /** Registered animals with when they were last read (or registered, never read): for the missing-animal alert. */
  silence(): Iterable<{ tag: string; site: string; zone: string; group?: string; since: number; last?: TagRead }>;
  importCsv(text: string): ImportResult;
  /** Registered animals, unknown tags. */
  size(): { registered: number; unknown: number };
}

const DAY_MS = 86_400_000;
const REBUILD_RETRY_MS = 10_000;

export function createHerd(deps: HerdDeps, options: HerdOptions = {}): Herd {
  const now = () => deps.clock?.now() ?? Date.now();
  const model = createHerdModel();
  const registeredAt = new Map<string, number>();
  const file = importedAnimalsFile(deps.dataDir, deps.logger);
  let imported = new Map<string, ImportedAnimalT>();
  const missingAfterMs = deps.config.animals.missingAfter;
  let registered = 0;

  const siteOfZone = (zone: string, site?: string): string | undefined => {
    if (site) return deps.farm.zone(site, zone) ? site : undefined;
    const sites = deps.farm
      .zones()
      .filter((z) => z.zone === zone)
      .map((z) => z.site);
    return sites.length === 1 ? sites[0] : undefined;
  };
  const checkZone = (zone: string, site?: string) => {
    if (siteOfZone(zone, site)) return undefined;
    const sites = deps.farm
      .zones()
      .filter((z) => z.zone === zone)
      .map((z) => z.site);
    if (sites.length > 1) return `zone "${zone}" is in sites ${sites.join(' and ')}: add a site column`;
    return site ? `site ${site} has no zone "${zone}"` : `there is no zone "${zone}" in the farm`;
  };

  function emitCounts(keys: string[], ts: number) {
    for (const key of keys) {
      const [site, zone] = key.split('/');
      const c = zoneCount(model, site, zone);
      deps.bus.emit('headCount', { site, zone, headCount: c.in, out: c.out, ts });
    }
  }

  function put(animal: Animal, at: number): string[] {
    if (!model.tags.get(animal.tag)?.animal) registered++;
    if (!registeredAt.has(animal.tag)) registeredAt.set(animal.tag, at);
    return registerAnimal(model, animal);
  }

  function onReads(reads: TagRead[]) {
    const changed = new Set<string>();
    for (const r of reads) for (const key of applyRead(model, r)) changed.add(key);
    if (changed.size > 0) emitCounts([...changed], now());
  }

  function view(s: TagState, at: number): AnimalView {
    const where = locationOf(s.lastGate);
    const a = s.animal;
    const silentSince = s.last?.ts ?? (a ? registeredAt.get(s.tag) : undefined);
    const v: AnimalView = {
      tag: s.tag,
      scheme: tagScheme(s.tag),
      known: Boolean(a),
      location: where.state,
      missing: Boolean(a) && silentSince !== undefined && at - silentSince >= missingAfterMs,
    };
    if (a) Object.assign(v, { group: a.group, born: a.born, sex: a.sex, site: a.site, home: a.zone });
    if (where.state !== 'unplaced') Object.assign(v, { site: where.site, zone: where.zone, since: where.since });
    else if (!a && s.last) v.site = s.last.site;
    if (s.last) Object.assign(v, { lastSeen: s.last.ts, lastSeenBy: s.last.device, lastSeenZone: s.last.zone });
    for (const k of Object.keys(v) as (keyof AnimalView)[]) if (v[k] === undefined) delete v[k];
    return v;
  }

  function matches(v: AnimalView, f: AnimalFilter): boolean {
    if (f.site && v.site !== f.site) return false;
    if (f.sites && (!v.site || !f.sites.includes(v.site))) return false;
    if (f.zone && (v.zone ?? v.home) !== f.zone) return false;
    if (f.group && v.group !== f.group) return false;
    if (f.show === 'registered' && !v.known) return false;
    if (f.show === 'unknown' && v.known) return false;
    if (f.show === 'missing' && !v.missing) return false;
    if (f.q) {
      const q = f.q.toLowerCase();
      if (!v.tag.toLowerCase().includes(q) && !(v.group ?? '').toLowerCase().includes(q)) return false;
    }
    return true;
  }

  const listener = (reads: TagRead[]) => onReads(reads);
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;

  /**
   * Places from the store. A store that cannot answer (InfluxDB down while the service restarts) must not keep
   * the service from starting: the herd starts from the register and live reads, and asks again every
   * REBUILD_RETRY_MS until it can. Merging later is safe: only newer reads move an animal.
   */
  async function rebuild(at: number): Promise<void> {
    try {
      const positions = await deps.store.tagPositions(at - (options.positionsLookbackMs ?? 400 * DAY_MS));
      const changed = new Set<string>();
      for (const p of positions) {
        const before = model.tags.get(p.tag)?.lastGate;
        restorePosition(model, p.tag, p.last, p.lastGate);
        const after = model.tags.get(p.tag)?.lastGate;
        if (after !== before) for (const r of [before, after]) if (r?.direction) changed.add(zoneKey(r.site, r.zone));
      }
      if (changed.size > 0) emitCounts([...changed], now());
      deps.logger.info(
        { registered, tags: model.tags.size, positions: positions.length },
        'herd rebuilt: register loaded and places taken from the stored tag reads',
      );
    } catch (err) {
      deps.logger.error(
        { err: (err as Error).message, retryInMs: REBUILD_RETRY_MS },
        'cannot read the tag reads to rebuild head counts: starting from the register and live reads, and trying again',
      );
      if (stopped) return;
      retry = setTimeout(() => void rebuild(at), REBUILD_RETRY_MS);
      retry.unref();
    }
  }

  return {
    missingAfterMs,
    async start() {
      const at = now();
      for (const entry of deps.config.animals.register) {
        const site = siteOfZone(entry.zone, entry.site);
        if (site) put({ ...entry, site, source: 'farm-file' }, at);
      }
      for (const a of file?.load() ?? []) {
        if (checkZone(a.zone, a.site)) {
          deps.logger.warn({ tag: a.tag, zone: a.zone }, 'an imported animal names a zone the farm no longer has: left out; import it again with its new zone');
          continue;
        }
        imported.set(a.tag, a);
        const { importedAt, ...entry } = a;
        put({ ...entry, source: 'import' }, importedAt);
      }
      deps.bus.on('tagReads', listener);
      await rebuild(at);
    },
    stop() {
      stopped = true;
      clearTimeout(retry);
      deps.bus.off('tagReads', listener);
    },
    list(f) {
      const at = now();
      const all: AnimalView[] = [];
      for (const s of model.tags.values()) {
        const v = view(s, at);
        if (matches(v, f)) all.push(v);
      }
      all.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
      const offset = f.offset ?? 0;
      return { total: all.length, animals: all.slice(offset, offset + (f.limit ?? 500)) };
    },
    animal(tag) {
      const s = model.tags.get(tag);
      return s ? view(s, now()) : undefined;
    },
    headCount(site, zone) {
      const c = zoneCount(model, site, zone);
      return { site, zone, headCount: c.in, out: c.out, unknown: c.unknownIn };
    },
    headCounts(site) {
      return deps.farm
        .zones()
        .filter((z) => !site || z.site === site)
        .map((z) => {
          const c = zoneCount(model, z.site, z.zone);
          return { site: z.site, zone: z.zone, headCount: c.in, out: c.out, unknown: c.unknownIn };
        });
    },
    *silence() {
      for (const s of model.tags.values()) {
        const a = s.animal;
        if (!a) continue;
        yield { tag: s.tag, site: a.site, zone: a.zone, group: a.group, since: s.last?.ts ?? registeredAt.get(s.tag) ?? 0, last: s.last };
      }
    },
    importCsv(text) {
      const at = now();
      const parsed = parseAnimalsCsv(text, checkZone);
      const next = new Map(imported);
      const result: ImportResult = { lines: parsed.lines, added: 0, updated: 0, unchanged: 0, rejected: parsed.rejected };
      const changes: Animal[] = [];
      for (const { line: _line, ...entry } of parsed.animals) {
        const site = siteOfZone(entry.zone, entry.site)!;
        const animal: Animal = { ...entry, site, source: 'import' };
        const before = model.tags.get(entry.tag)?.animal;
        if (!before) result.added++;
        else if (
          before.group === animal.group &&
          before.born === animal.born &&
          before.sex === animal.sex &&
          before.zone === animal.zone &&
          before.site === animal.site
        ) {
          result.unchanged++;
          continue;
        } else result.updated++;
        next.set(entry.tag, { ...entry, site, importedAt: imported.get(entry.tag)?.importedAt ?? at });
        changes.push(animal);
      }
      // Saved before it takes effect: an import the disk did not take is not half applied.
      if (changes.length > 0) file?.save([...next.values()]);
      imported = next;
      const changed = new Set<string>();
      for (const a of changes) for (const key of put(a, at)) changed.add(key);
      if (changed.size > 0) emitCounts([...changed], at);
      deps.logger.info({ ...result, rejected: result.rejected.length }, 'animals imported');
      return result;
    },
    size: () => ({ registered, unknown: model.tags.size - registered }),
  };
}

export { zoneKey };
