import { parseArgs } from 'node:util';
import {
  ACTUATOR_TYPES,
  ID_PATTERN,
  READER_PLACES,
  ZONE_KINDS,
  type ActuatorType,
  type DeviceRole,
  type ReaderPlace,
  type ZoneKind,
} from '../../core/domain.js';
import { METRIC_NAMES } from '../../core/metrics-catalog.js';
import { canonicalTimeZone } from '../../core/site-time.js';

/** What `npm run provision` was asked to do, checked option by option before the file is touched. */
export type ProvisionRequest =
  | {
      kind: 'device';
      config: string;
      id: string;
      site: string;
      zone: string;
      role: DeviceRole;
      type?: ActuatorType;
      at?: ReaderPlace;
      metrics?: string[];
      /** Create the zone (and the site) when missing. */
      create?: { zoneKind: ZoneKind; zoneName?: string; siteName?: string; timezone?: string };
      mosquittoDir?: string;
    }
  | {
      kind: 'device-rotate';
      config: string;
      id: string;
      /** Options given besides --id: they must agree with the file (a typo should not rotate another device). */
      expect: { site?: string; zone?: string; role?: DeviceRole; type?: ActuatorType; zoneKind?: ZoneKind };
      mosquittoDir?: string;
    }
  | { kind: 'user'; config: string; name: string; role?: UserRole; rotate: boolean };

export type UserRole = 'viewer' | 'operator' | 'admin';
const USER_ROLES = ['viewer', 'operator', 'admin'] as const;
const DEVICE_ROLES = ['sensor', 'actuator', 'reader'] as const;

export type ProvisionErrorCode = 'BAD_ARGUMENT' | 'NOT_FOUND' | 'EXISTS' | 'WRONG_PLACE' | 'FILE_INVALID' | 'RESULT_INVALID' | 'NO_MOSQUITTO_FILES';

/** A refusal: nothing was written; the message names the cause and what to type instead. */
export class ProvisionError extends Error {
  constructor(
    readonly code: ProvisionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProvisionError';
  }
}

export const HELP = `Provision a device or a user into a farm config file. Only a scrypt hash is stored; the new secret
or password is printed once. Everything else in the file stays byte for byte as it was.

New device:
  npm run provision -- --config FILE --site SITE --zone ZONE --id DEVICE --role sensor|actuator|reader
                       [--type fan|spray|shutter|pump|valve] (actuators) [--at gate|pen|feeder] (readers)
                       [--metrics temperature,humidity,...] (sensors)
                       [--kind shed|field|drain [--zone-name NAME] [--site-name NAME] [--timezone ZONE]]
  --kind creates the zone when the site has none of that id (and the site when the file has none), named
  --zone-name (default: from the id, shed-5 -> "Shed 5"); a new site takes --timezone (default: the time zone
  of the file's first site).

New secret for an existing device (the old one stops working at the next start of the service):
  npm run provision -- --config FILE --id DEVICE --rotate

Dashboard user (new, or --rotate for a new password):
  npm run provision -- --config FILE --user NAME --role viewer|operator|admin
  npm run provision -- --config FILE --user NAME --rotate

  --config FILE          the farm file (default: FARM_CONFIG)
  --mosquitto-dir DIR    also add the device to DIR/passwd and rewrite DIR/acl (files of npm run mosquitto-config);
                         then reload Mosquitto (kill -HUP its pid) so it reads them
`;

function oneOf<T extends string>(option: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ProvisionError('BAD_ARGUMENT', `--${option} ${value}: expected one of ${allowed.join(', ')}`);
}

function id(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (ID_PATTERN.test(value)) return value;
  throw new ProvisionError('BAD_ARGUMENT', `--${option} ${value}: ids are lower-case letters, digits, _ and -, starting with a letter or digit (at most 64)`);
}

function required<T>(option: string, value: T | undefined, why: string): T {
  if (value === undefined) throw new ProvisionError('BAD_ARGUMENT', `--${option} is required ${why}`);
  return value;
}

/** `undefined` when only --help was asked for. */
export function parseProvisionArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ProvisionRequest | undefined {
  let a;
  try {
    a = parseArgs({
      args: argv,
      strict: true,
      options: {
        config: { type: 'string' },
        site: { type: 'string' },
        zone: { type: 'string' },
        id: { type: 'string' },
        role: { type: 'string' },
        at: { type: 'string' },
        type: { type: 'string' },
        kind: { type: 'string' },
        metrics: { type: 'string' },
        user: { type: 'string' },
        rotate: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        'mosquitto-dir': { type: 'string' },
        'zone-name': { type: 'string' },
        'site-name': { type: 'string' },
        timezone: { type: 'string' },
      },
    }).values;
  } catch (err) {
    // node:util's own words ("Unknown option '--sit'"), which name the option.
    throw new ProvisionError('BAD_ARGUMENT', (err as Error).message);
  }
  if (a.help) return undefined;
  const config = a.config ?? env.FARM_CONFIG;
  if (!config) throw new ProvisionError('BAD_ARGUMENT', '--config FILE is required (or set FARM_CONFIG): the farm file to add to');

  if (a.user !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(a.user))
      throw new ProvisionError('BAD_ARGUMENT', `--user ${a.user}: user names are letters, digits, _ . and - (at most 64)`);
    const deviceOnly = ['site', 'zone', 'id', 'type', 'at', 'kind', 'metrics', 'mosquitto-dir', 'zone-name', 'site-name', 'timezone'].filter(
      (k) => a[k as keyof typeof a] !== undefined,
    );
    if (deviceOnly.length)
      throw new ProvisionError('BAD_ARGUMENT', `--${deviceOnly[0]} is for devices, not with --user (dashboard users do not log in to the broker)`);
    const role = oneOf('role', a.role, USER_ROLES);
    if (!a.rotate && !role)
      throw new ProvisionError(
        'BAD_ARGUMENT',
        `--role viewer|operator|admin is required for a new user (or add --rotate to give user ${a.user} a new password)`,
      );
    return { kind: 'user', config, name: a.user, role, rotate: a.rotate ?? false };
  }

  const deviceId = required('id', id('id', a.id), 'for a device (or give --user NAME for a dashboard user)');
  const role = oneOf('role', a.role, DEVICE_ROLES);
  const type = oneOf('type', a.type, ACTUATOR_TYPES);
  const zoneKind = oneOf('kind', a.kind, ZONE_KINDS);
  const site = id('site', a.site);
  const zone = id('zone', a.zone);
  const mosquittoDir = a['mosquitto-dir'];
  if (a.rotate) {
    for (const k of ['at', 'metrics', 'zone-name', 'site-name', 'timezone'] as const)
      if (a[k] !== undefined)
        throw new ProvisionError(
          'BAD_ARGUMENT',
          `--rotate gives ${deviceId} a new secret and changes nothing else: leave out --${k} (edit the file to change it)`,
        );
    return { kind: 'device-rotate', config, id: deviceId, expect: { site, zone, role, type, zoneKind }, mosquittoDir };
  }

  const why = `for a new device (to give the existing device ${deviceId} a new secret: --id ${deviceId} --rotate)`;
  const r = required('role', role, why);
  if (r === 'actuator' && !type) throw new ProvisionError('BAD_ARGUMENT', `--role actuator needs --type ${ACTUATOR_TYPES.join('|')}`);
  if (r !== 'actuator' && type) throw new ProvisionError('BAD_ARGUMENT', `--type is for actuators: leave it out for a ${r}`);
  const at = oneOf('at', a.at, READER_PLACES);
  if (at && r !== 'reader') throw new ProvisionError('BAD_ARGUMENT', `--at is for readers (gate, pen or feeder): leave it out for a ${r}`);
  let metrics: string[] | undefined;
  if (a.metrics !== undefined) {
    if (r === 'reader') throw new ProvisionError('BAD_ARGUMENT', '--metrics: a reader reports ear tags, not metrics; leave it out');
    metrics = a.metrics
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    const unknown = metrics.filter((m) => !METRIC_NAMES.includes(m));
    if (unknown.length || metrics.length === 0)
      throw new ProvisionError(
        'BAD_ARGUMENT',
        `--metrics ${a.metrics}: ${unknown.length ? `unknown ${unknown.join(', ')}; ` : ''}the metrics are ${METRIC_NAMES.join(', ')}`,
      );
  }
  let timezone: string | undefined;
  if (a.timezone !== undefined) {
    timezone = canonicalTimeZone(a.timezone);
    if (!timezone) throw new ProvisionError('BAD_ARGUMENT', `--timezone ${a.timezone} is not an IANA time zone: use a name like Asia/Shanghai or UTC`);
  }
  if (!zoneKind && (a['zone-name'] !== undefined || a['site-name'] !== undefined || timezone))
    throw new ProvisionError('BAD_ARGUMENT', '--zone-name, --site-name and --timezone are for a new zone or site: give --kind shed|field|drain too');
  return {
    kind: 'device',
    config,
    id: deviceId,
    site: required('site', site, why),
    zone: required('zone', zone, why),
    role: r,
    type,
    at,
    metrics,
    create: zoneKind ? { zoneKind, zoneName: a['zone-name'], siteName: a['site-name'], timezone } : undefined,
    mosquittoDir,
  };
}
