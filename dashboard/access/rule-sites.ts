import type { FarmIndex } from '../../core/farm-index.js';
import { scopeCoversZone } from '../../rules/scope.js';
import type { ConditionT, RuleT } from '../../rules/schema.js';
import type { SiteScope } from './site-scope.js';

/**
 * Which sites a rule concerns, for site-limited users. A rule *names* a site when it gives its id, a device of
 * it (scope, a pinned condition, an actuate step) or a zone id only that site has; it *covers* the sites whose
 * zones its scope matches (rules/scope.ts, as the engine matches them). A limited user sees a rule that names
 * none of the other sites and covers one of theirs (an unscoped "sensor silent" rule, say), and writes only
 * rules that cover their sites alone.
 */
type Farm = Pick<FarmIndex, 'device' | 'zones'>;

function pinnedDevices(c: ConditionT): string[] {
  if ('all' in c) return c.all.flatMap(pinnedDevices);
  if ('any' in c) return c.any.flatMap(pinnedDevices);
  return c.device ? [c.device] : [];
}

export function namedSites(rule: RuleT, farm: Farm): string[] {
  const s = rule.scope ?? {};
  const sites = new Set<string>();
  if (s.site) sites.add(s.site);
  else if (s.zone) for (const z of farm.zones()) if (z.zone === s.zone) sites.add(z.site);
  const devices = [s.device, ...pinnedDevices(rule.when), ...rule.actions.flatMap((a) => ('actuate' in a && a.actuate.device ? [a.actuate.device] : []))];
  for (const id of devices) {
    const site = id ? farm.device(id)?.site : undefined;
    if (site) sites.add(site);
  }
  return [...sites];
}

export function coveredSites(rule: RuleT, farm: Farm): string[] {
  return [
    ...new Set(
      farm
        .zones()
        .filter((z) => scopeCoversZone(rule.scope ?? {}, z))
        .map((z) => z.site),
    ),
  ];
}

export function ruleVisible(rule: RuleT, farm: Farm, scope: Pick<SiteScope, 'limited' | 'allows'>): boolean {
  if (!scope.limited) return true;
  return namedSites(rule, farm).every((s) => scope.allows(s)) && coveredSites(rule, farm).some((s) => scope.allows(s));
}

/** A rule a limited user may write: it covers some of their sites and no other. */
export function ruleWithin(rule: RuleT, farm: Farm, scope: Pick<SiteScope, 'limited' | 'allows'>): boolean {
  if (!scope.limited) return true;
  const covered = coveredSites(rule, farm);
  return covered.length > 0 && covered.every((s) => scope.allows(s)) && namedSites(rule, farm).every((s) => scope.allows(s));
}
