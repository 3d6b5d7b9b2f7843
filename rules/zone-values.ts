import { thiBands } from '../core/animal-groups.js';
import { pipeDesign } from '../core/pipe-design.js';
import type { CompiledRule, LevelSpec } from './compile.js';
import type { ThresholdT } from './schema.js';

/**
 * Values of a zone that thresholds may name (`atLeast: { zone: designDepthM }`), so that one rule gives every
 * pipe its own limits and every shed its animal group's THI bands:
 * - every numeric attribute of the zone, under its own name (`diameterM`, `depthM`, `startLevelM` ...);
 * - a pipe with a diameter: `designFill` and `designDepthM` (GB 50014 by diameter for sewage pipes, full for
 *   storm and combined pipes; core/pipe-design.ts);
 * - a shed: `thiComfort`, `thiSevere`, `thiExtreme` of its `animalGroup` (core/animal-groups.ts).
 * Pure.
 */
export type Attributes = Record<string, string | number | boolean> | undefined;

export function zoneValues(kind: string, attributes: Attributes): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(attributes ?? {})) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  const pipe = kind === 'drain' ? pipeDesign(attributes) : undefined;
  if (pipe) Object.assign(out, { diameterM: pipe.diameterM, designFill: pipe.designFill, designDepthM: pipe.designDepthM });
  if (kind === 'shed') {
    const bands = thiBands(attributes);
    Object.assign(out, { thiComfort: bands.comfort, thiSevere: bands.severe, thiExtreme: bands.extreme });
  }
  return out;
}

/** What one instance evaluates with: per leaf, its levels and degree-hours base with zone values filled in. */
export interface LeafSpec {
  levels: LevelSpec[];
  base?: number;
}

const NO_LEVELS: LevelSpec[] = [];

function value(t: ThresholdT, values: Record<string, number>): number | undefined {
  if (typeof t === 'number') return t;
  const v = values[t.zone];
  return v === undefined ? undefined : v + (t.plus ?? 0);
}

const missing = (t: ThresholdT) => `the zone has no value "${typeof t === 'number' ? t : t.zone}" (give it as a numeric attribute)`;

/**
 * The rule's thresholds for a zone, or why the zone cannot have the rule: a zone value it lacks, or levels that
 * are not in order there (each must be beyond the previous one, and a clear threshold on the near side of its
 * level's threshold).
 */
export function resolveLeaves(rule: CompiledRule, values: Record<string, number>): { specs: LeafSpec[] } | { problem: string } {
  const specs: LeafSpec[] = [];
  for (const leaf of rule.leaves) {
    if (leaf.kind !== 'metric') {
      specs.push({ levels: NO_LEVELS });
      continue;
    }
    const levels: LevelSpec[] = [];
    for (const l of leaf.levels) {
      const enter = value(l.enter, values);
      const clear = value(l.clear, values);
      if (enter === undefined || clear === undefined) return { problem: missing(enter === undefined ? l.enter : l.clear) };
      if (l.up ? clear > enter : clear < enter) return { problem: `clear threshold ${clear} is beyond ${enter}${l.name ? ` at level ${l.name}` : ''}` };
      const prev = levels[levels.length - 1];
      if (prev && (l.up ? enter <= prev.enter : enter >= prev.enter))
        return { problem: `level ${l.name} (${enter}) is not beyond ${prev.name} (${prev.enter})` };
      levels.push({ name: l.name, up: l.up, inclusive: l.inclusive, enter, clear, severity: l.severity });
    }
    const base = leaf.window?.base === undefined ? undefined : value(leaf.window.base, values);
    if (leaf.window?.base !== undefined && base === undefined) return { problem: missing(leaf.window.base) };
    specs.push({ levels, base });
  }
  return { specs };
}
