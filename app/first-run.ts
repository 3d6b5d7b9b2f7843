import type { FarmConfigT } from '../core/config/schema.js';

/**
 * What a person starting the service reads first: one line about the development secrets (not one per secret),
 * and a banner with the dashboard's address and how to log in. Pure: app/main.ts logs and prints them.
 */
export interface DevelopmentSecrets {
  /** Devices with a plain `secret:` in the farm file. */
  devices: string[];
  /** Users with a plain `password:` in the farm file. */
  users: string[];
  /** Devices with neither a secret nor a secretHash: they cannot connect at all. */
  unusable: string[];
}

export function developmentSecrets(config: Pick<FarmConfigT, 'sites' | 'users'>): DevelopmentSecrets {
  const out: DevelopmentSecrets = { devices: [], users: [], unusable: [] };
  for (const site of config.sites)
    for (const zone of site.zones)
      for (const d of zone.devices) {
        if (d.secret) out.devices.push(d.id);
        else if (!d.secretHash) out.unusable.push(d.id);
      }
  for (const u of config.users) if (u.password) out.users.push(u.name);
  return out;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The one warning about plain-text secrets, or undefined when there are none. The log line's `devices` field names each device. */
export function developmentSecretsWarning(s: DevelopmentSecrets): string | undefined {
  if (s.devices.length === 0 && s.users.length === 0) return undefined;
  const what = [s.devices.length ? plural(s.devices.length, 'device') : '', s.users.length ? `${plural(s.users.length, 'user')} (${s.users.join(', ')})` : '']
    .filter(Boolean)
    .join(' and ');
  return `development secrets: ${what} have plain-text secrets or passwords in the farm file. Fine for trying it out; before real devices connect, replace them with hashes (npm run provision: README "Provisioning a device")`;
}

export function unusableDevicesWarning(s: DevelopmentSecrets): string | undefined {
  if (s.unusable.length === 0) return undefined;
  return `${plural(s.unusable.length, 'device')} (${s.unusable.join(', ')}) ${s.unusable.length === 1 ? 'has' : 'have'} no secret and cannot connect: provision ${s.unusable.length === 1 ? 'it' : 'them'} (npm run provision: README "Provisioning a device")`;
}

export interface BannerFacts {
  dashboardUrl: string;
  mqtt: string;
  configPath: string;
  sites: number;
  devices: number;
  simulated: boolean;
  /** History filled in at this first start (the demo farm's simulated week), if any. */
  history?: string;
  /** Logins whose password is in the farm file in plain text (development users). */
  logins: { name: string; password: string; role: string }[];
}

/** The banner printed on a terminal once everything is up. */
export function bannerLines(f: BannerFacts): string[] {
  const lines = [
    '',
    `  farmwatch is running: ${plural(f.sites, 'site')}, ${plural(f.devices, 'device')} from ${f.configPath}${f.simulated ? ' (simulated farm running)' : ''}`,
    '',
    `  Dashboard   ${f.dashboardUrl}`,
  ];
  if (f.logins.length > 0) {
    const width = Math.max(...f.logins.map((l) => `${l.name} / ${l.password}`.length));
    f.logins.forEach((l, i) => lines.push(`  ${i === 0 ? 'Log in as  ' : '           '} ${`${l.name} / ${l.password}`.padEnd(width)}  (${l.role})`));
  }
  lines.push(`  MQTT        ${f.mqtt}`);
  if (f.history) lines.push(`  History     ${f.history}`);
  lines.push('', '  Stop with Ctrl-C. Logs follow.', '');
  return lines;
}

/** Development logins to show: users whose password the farm file gives in plain text. */
export function developmentLogins(config: Pick<FarmConfigT, 'users'>): BannerFacts['logins'] {
  return config.users.filter((u) => u.password).map((u) => ({ name: u.name, password: u.password!, role: u.role }));
}
