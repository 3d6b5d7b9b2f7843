import type { FarmConfigT } from '../core/config/schema.js';
import { ClusterError } from './errors.js';

/**
 * Rules partitioning by site (pure). Rule state (for-timers, windows, hysteresis, actuator holds, alerts) is
 * kept per rule instance, and an instance never spans sites, so giving each site to exactly one rules process
 * means no two processes ever act on one site. A process with RULES_SITES=a,b runs the engine on a farm file
 * cut down to those sites and subscribes only to their readings and actuator states.
 */
export interface RulesMember {
  instance: string;
  sites: string[];
  startedAt: number;
}

export interface Coverage {
  /** site -> instances claiming it */
  owners: Record<string, string[]>;
  unowned: string[];
  conflicts: { site: string; instances: string[] }[];
}

/** The sites a rules process owns: RULES_SITES checked against the farm file, or every site. */
export function ownedSites(config: FarmConfigT, requested: readonly string[] | undefined): string[] {
  const all = config.sites.map((s) => s.id);
  if (!requested || requested.length === 0) return all;
  const unknown = requested.filter((s) => !all.includes(s));
  if (unknown.length)
    throw new ClusterError(
      'PARTITION_UNKNOWN_SITE',
      `RULES_SITES names ${unknown.join(', ')}, which the farm file does not have (its sites: ${all.join(', ')}): fix RULES_SITES`,
    );
  return [...new Set(requested)];
}

/** The farm file as one rules process sees it: only its sites; users and rules unchanged. */
export function partitionConfig(config: FarmConfigT, sites: readonly string[]): FarmConfigT {
  return { ...config, sites: config.sites.filter((s) => sites.includes(s.id)) };
}

export function coverage(allSites: readonly string[], members: readonly RulesMember[]): Coverage {
  const owners: Record<string, string[]> = Object.fromEntries(allSites.map((s) => [s, []]));
  for (const m of members) for (const s of m.sites) (owners[s] ??= []).push(m.instance);
  return {
    owners,
    unowned: allSites.filter((s) => owners[s].length === 0),
    conflicts: Object.entries(owners)
      .filter(([, instances]) => instances.length > 1)
      .map(([site, instances]) => ({ site, instances })),
  };
}

/** Sites `mine` would share with processes already running; empty when it may start. */
export function overlapWith(mine: RulesMember, running: readonly RulesMember[]): { site: string; instance: string }[] {
  return running
    .filter((m) => m.instance !== mine.instance)
    .flatMap((m) => m.sites.filter((s) => mine.sites.includes(s)).map((site) => ({ site, instance: m.instance })));
}

/** The one process owning `site`, or undefined (none, or a conflict the dashboard reports in /health). */
export function ownerOf(site: string, members: readonly RulesMember[]): RulesMember | undefined {
  const claiming = members.filter((m) => m.sites.includes(site));
  return claiming.length === 1 ? claiming[0] : claiming.sort((a, b) => a.startedAt - b.startedAt)[0];
}
