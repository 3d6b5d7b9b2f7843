import type { FarmConfigT } from './config/schema.js';

/**
 * What changed between two versions of the farm file, as a reload applies it (app/reload.ts): devices added,
 * removed or changed in any way (secret, zone, role, metrics …: a changed device must log in again), sites added
 * or removed, users added, removed or changed. Pure.
 */
export interface FarmChanges {
  devices: { added: string[]; removed: string[]; changed: string[] };
  sites: { added: string[]; removed: string[]; changed: string[] };
  users: { added: string[]; removed: string[]; changed: string[] };
  /** Anything but users: the rules engine and the dashboard's views of the farm change. */
  farmChanged: boolean;
}

function diff<T>(before: Map<string, T>, after: Map<string, T>) {
  const same = (a: T, b: T) => JSON.stringify(a) === JSON.stringify(b);
  return {
    added: [...after.keys()].filter((k) => !before.has(k)),
    removed: [...before.keys()].filter((k) => !after.has(k)),
    changed: [...after.keys()].filter((k) => before.has(k) && !same(before.get(k)!, after.get(k)!)),
  };
}

function devicesOf(config: Pick<FarmConfigT, 'sites'>) {
  const out = new Map<string, unknown>();
  for (const site of config.sites)
    for (const zone of site.zones) for (const d of zone.devices) out.set(d.id, { site: site.id, zone: zone.id, kind: zone.kind, ...d });
  return out;
}

export function farmChanges(before: Pick<FarmConfigT, 'sites' | 'users'>, after: Pick<FarmConfigT, 'sites' | 'users'>): FarmChanges {
  const devices = diff(devicesOf(before), devicesOf(after));
  const sites = diff(new Map(before.sites.map((s) => [s.id, s])), new Map(after.sites.map((s) => [s.id, s])));
  const users = diff(new Map(before.users.map((u) => [u.name, u])), new Map(after.users.map((u) => [u.name, u])));
  return { devices, sites, users, farmChanged: sites.added.length + sites.removed.length + sites.changed.length > 0 };
}

/** "2 devices added (a, b), 1 removed (c), 1 user changed (ops)", or "nothing changed". */
export function describeChanges(c: FarmChanges): string {
  const parts: string[] = [];
  const say = (n: string[], what: string, how: string) => n.length && parts.push(`${n.length} ${what}${n.length === 1 ? '' : 's'} ${how} (${n.join(', ')})`);
  say(c.devices.added, 'device', 'added');
  say(c.devices.removed, 'device', 'removed');
  say(c.devices.changed, 'device', 'changed');
  say(c.sites.added, 'site', 'added');
  say(c.sites.removed, 'site', 'removed');
  say(c.users.added, 'user', 'added');
  say(c.users.removed, 'user', 'removed');
  say(c.users.changed, 'user', 'changed');
  if (parts.length === 0 && c.farmChanged) parts.push('zones or site settings changed');
  return parts.join(', ') || 'nothing changed';
}
