import type { DeviceRef, ActuatorType, DeviceRole, ReaderPlace, ZoneKind } from './domain.js';
import type { DeviceT, FarmConfigT, ZoneT } from './config/schema.js';

/** Lookups over the farm file: who a device is and where it sits. Built once per config version. */
export interface IndexedDevice extends DeviceRef {
  role: DeviceRole;
  type?: ActuatorType;
  /** Readers only: gate (reports in/out), pen or feeder; a reader without `at` in the file is a gate reader. */
  at?: ReaderPlace;
  config: DeviceT;
}

export interface IndexedZone {
  site: string;
  zone: string;
  kind: ZoneKind;
  config: ZoneT;
  devices: IndexedDevice[];
}

export interface FarmIndex {
  device(id: string): IndexedDevice | undefined;
  devices(): IndexedDevice[];
  zones(): IndexedZone[];
  zone(site: string, zone: string): IndexedZone | undefined;
  actuators(site: string, zone: string, type?: ActuatorType): IndexedDevice[];
  /** The site's IANA time zone (config `timezone`, default UTC); UTC for a site the farm does not have. */
  timeZone(site: string): string;
}

export function indexFarm(config: FarmConfigT): FarmIndex {
  const byId = new Map<string, IndexedDevice>();
  const zones: IndexedZone[] = [];
  const timeZones = new Map(config.sites.map((s) => [s.id, s.timezone ?? 'UTC']));
  for (const site of config.sites) {
    for (const zone of site.zones) {
      const devices = zone.devices.map((d) => ({
        site: site.id,
        zone: zone.id,
        kind: zone.kind,
        device: d.id,
        role: d.role,
        type: d.type,
        at: d.role === 'reader' ? (d.at ?? 'gate') : undefined,
        config: d,
      }));
      for (const d of devices) byId.set(d.device, d);
      zones.push({ site: site.id, zone: zone.id, kind: zone.kind, config: zone, devices });
    }
  }
  const zoneKey = (site: string, zone: string) => `${site}/${zone}`;
  const byZone = new Map(zones.map((z) => [zoneKey(z.site, z.zone), z]));
  return {
    device: (id) => byId.get(id),
    devices: () => [...byId.values()],
    zones: () => zones,
    zone: (site, zone) => byZone.get(zoneKey(site, zone)),
    actuators: (site, zone, type) => (byZone.get(zoneKey(site, zone))?.devices ?? []).filter((d) => d.role === 'actuator' && (!type || d.type === type)),
    timeZone: (site) => timeZones.get(site) ?? 'UTC',
  };
}
