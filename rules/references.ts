import type { FarmIndex } from '../core/farm-index.js';
import type { ConditionT, RuleT } from './schema.js';

/**
 * Names a rule uses that this engine's farm does not have: a typo in a zone or device id makes a rule silently
 * never fire. Only warned about (not refused): a rules process that owns some sites sees a farm cut down to
 * them, where rules scoped to the other sites are expected to find nothing.
 */
export function unknownReferences(def: RuleT, farm: FarmIndex): string[] {
  const out: string[] = [];
  const zones = farm.zones();
  const { site, zone, device } = def.scope;
  if (site && !zones.some((z) => z.site === site)) out.push(`scope.site "${site}"`);
  if (zone && !zones.some((z) => z.zone === zone && (!site || z.site === site))) out.push(`scope.zone "${zone}"`);
  if (device && !farm.device(device)) out.push(`scope.device "${device}"`);
  const pinned = (c: ConditionT): string[] =>
    'all' in c
      ? c.all.flatMap(pinned)
      : 'any' in c
        ? c.any.flatMap(pinned)
        : [...(c.device ? [c.device] : []), ...('baseline' in c && c.baseline ? c.baseline.rain : [])];
  for (const d of pinned(def.when)) if (!farm.device(d)) out.push(`when: device "${d}"`);
  for (const a of def.actions)
    if ('actuate' in a && a.actuate.device && farm.device(a.actuate.device)?.role !== 'actuator') out.push(`actuate.device "${a.actuate.device}"`);
  return out;
}
