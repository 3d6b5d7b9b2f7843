/**
 * Zone attributes in the farm file are free-form (`head_count`, `headCount` and `head-count` all mean the
 * same); the simulators read them through these helpers so the lead can spell them either way.
 */
export type Attributes = Record<string, string | number | boolean> | undefined;

const normalise = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

export function attr(attributes: Attributes, ...names: string[]): string | number | boolean | undefined {
  if (!attributes) return undefined;
  const wanted = new Set(names.map(normalise));
  for (const [key, value] of Object.entries(attributes)) if (wanted.has(normalise(key))) return value;
  return undefined;
}

export function numberAttr(attributes: Attributes, ...names: string[]): number | undefined {
  const value = attr(attributes, ...names);
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function boolAttr(attributes: Attributes, ...names: string[]): boolean | undefined {
  const value = attr(attributes, ...names);
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'yes' || value === 1) return true;
  if (value === 'false' || value === 'no' || value === 0) return false;
  return undefined;
}

/** A list given as "a, b" or a single id. */
export function listAttr(attributes: Attributes, ...names: string[]): string[] {
  const value = attr(attributes, ...names);
  if (typeof value !== 'string') return [];
  return value.split(/[,\s]+/).filter(Boolean);
}

/** Pipe diameter in metres: `diameter_mm`, or `diameter`/`diameter_m` (values above 5 are taken as mm). */
export function diameterM(attributes: Attributes): number | undefined {
  const mm = numberAttr(attributes, 'diameter_mm', 'dn');
  if (mm !== undefined) return mm / 1000;
  const d = numberAttr(attributes, 'diameter_m', 'diameter');
  if (d === undefined) return undefined;
  return d > 5 ? d / 1000 : d;
}

/** A share given either as 0..1 or as a percentage. */
export function shareAttr(attributes: Attributes, ...names: string[]): number | undefined {
  const v = numberAttr(attributes, ...names);
  if (v === undefined) return undefined;
  return v > 1 ? v / 100 : v;
}
