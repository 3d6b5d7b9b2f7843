import { z } from 'zod';
import { ACTUATOR_TYPES, ID_PATTERN, READER_PLACES, ZONE_KINDS } from '../domain.js';
import { AnimalsSection } from './animals.js';
import { METRIC_NAMES } from '../metrics-catalog.js';
import { canonicalTimeZone } from '../site-time.js';
import { Duration } from './duration.js';
import { Rules } from './rules.js';
import { Channel, NotificationRoute } from './notifications.js';
import { LANGUAGES, type Language, type LocalText as LocalTextT } from '../local-text.js';
import { LocalText } from './local-text.js';

/** The farm file (SPEC "Configuration file"): the one schema every component reads. */
const Id = z.string().regex(ID_PATTERN, 'ids are lower-case letters, digits, _ and -, starting with a letter or digit (max 64)');
const SecretHash = z
  .string()
  .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'expected scrypt$N$r$p$salt$hash (make one with npm run provision)');

export const Device = z
  .object({
    id: Id,
    name: LocalText.optional(),
    role: z.enum(['sensor', 'actuator', 'reader']),
    type: z.enum(ACTUATOR_TYPES).optional(),
    /** Readers: at a gate (reports in/out), a pen or a feeder (no direction). Default gate. */
    at: z.enum(READER_PLACES).optional(),
    secret: z.string().min(8, 'a device secret needs at least 8 characters').optional(),
    secretHash: SecretHash.optional(),
    metrics: z.array(z.enum(METRIC_NAMES as [string, ...string[]])).optional(),
    /**
     * How often the device reports (a sensor's telemetry). The dashboard greys a value older than twice this and
     * shows its age; without it the interval is learned from the readings.
     */
    reportEvery: Duration.optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.role === 'actuator' && !d.type)
      ctx.addIssue({ code: 'custom', path: ['type'], message: 'an actuator needs a type: fan, spray, shutter, pump or valve' });
    if (d.role !== 'actuator' && d.type) ctx.addIssue({ code: 'custom', path: ['type'], message: 'only actuators have a type' });
    if (d.role !== 'reader' && d.at) ctx.addIssue({ code: 'custom', path: ['at'], message: 'only readers have `at` (gate, pen or feeder)' });
    if (d.role === 'reader' && d.metrics)
      ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'a reader reports ear tags, not metrics: remove metrics' });
    if (d.secret && d.secretHash) ctx.addIssue({ code: 'custom', path: ['secret'], message: 'give either secret or secretHash, not both' });
  });

/** What a shed does with its actuators when its climate sensors go silent. */
export const FailSafe = z
  .object({
    after: Duration.default(600_000),
    actuators: z.partialRecord(z.enum(ACTUATOR_TYPES), z.enum(['on', 'off'])),
  })
  .strict();

/**
 * A floor no operator command breaks, as barn climate controllers keep minimum ventilation whatever the manual
 * override: while any of the `while` rules is active in the zone, at least `atLeast` of the zone's actuators of
 * `type` are kept `on` (or at `set` `value`). Operators' holds that would go under it are refused, and holds that
 * were there first are overridden while it lasts. Manual mode still takes an actuator out of automation, floors
 * included: it is the explicit way to work on a fan.
 */
export const Floor = z
  .object({
    id: Id,
    description: z.string().optional(),
    type: z.enum(ACTUATOR_TYPES),
    action: z.enum(['on', 'set']).default('on'),
    value: z.number().min(0).max(100).optional(),
    atLeast: z.number().int().min(1).default(1),
    /** Rule ids: the floor is in force while an instance of one of them is active in this zone. */
    while: z.array(Id).min(1),
  })
  .strict()
  .refine((f) => f.action !== 'set' || f.value !== undefined, { path: ['value'], message: 'a floor with action set needs a value (0-100)' });

export const Zone = z
  .object({
    id: Id,
    name: LocalText.optional(),
    kind: z.enum(ZONE_KINDS),
    devices: z.array(Device).default([]),
    failsafe: FailSafe.optional(),
    floors: z.array(Floor).optional(),
    /** Free-form facts the dashboard and simulators use (head count, pipe diameter, upstream pipe ...). */
    attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .strict();

/** An IANA zone name (Asia/Shanghai), kept in its canonical spelling: InfluxDB's tz() wants it exactly. */
export const TimeZone = z.string().transform((name, ctx) => {
  const zone = canonicalTimeZone(name);
  if (zone) return zone;
  ctx.addIssue({ code: 'custom', message: `"${name}" is not an IANA time zone: use a name like Asia/Shanghai, Europe/Berlin or UTC` });
  return z.NEVER;
});

export const Site = z
  .object({
    id: Id,
    name: LocalText.optional(),
    /** Schedules, calendar days, history buckets of 1 h or more and the times the dashboard shows follow it. */
    timezone: TimeZone.default('UTC'),
    /** The language of the site's notifications (the page follows each viewer's choice). Default en. */
    language: z.enum(LANGUAGES as [Language, ...Language[]], { error: 'language is en or zh-CN' }).default('en'),
    zones: z.array(Zone).min(1),
  })
  .strict();

export const User = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'user names are letters, digits, _ . and -'),
    role: z.enum(['viewer', 'operator', 'admin']),
    password: z.string().min(8, 'a password needs at least 8 characters').optional(),
    passwordHash: SecretHash.optional(),
    /** The sites this user may see (SPEC "Access control"); omitted = every site. */
    sites: z.array(Id).min(1, 'give at least one site, or leave sites out for every site').optional(),
  })
  .strict()
  .refine((u) => (u.password === undefined) !== (u.passwordHash === undefined), { message: 'a user needs exactly one of password or passwordHash' });

export const FarmConfig = z
  .object({
    sites: z.array(Site).min(1),
    users: z.array(User).default([]),
    animals: AnimalsSection.default({ missingAfter: 86_400_000, register: [] }),
    rules: Rules.default([]),
    /**
     * How long an operator's command to an actuator in auto mode holds it when the command gives no `until` or
     * `forMinutes` (SPEC "More routes"); then the rules take the actuator back.
     */
    operatorHold: Duration.default(30 * 60_000).refine((ms) => ms >= 60_000 && ms <= 7 * 86_400_000, { message: 'operatorHold must be between 1m and 7d' }),
    channels: z.array(Channel).default([]),
    notifications: z.array(NotificationRoute).default([]),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const devices = new Map<string, string>();
    cfg.sites.forEach((site, si) => {
      const zones = new Set<string>();
      site.zones.forEach((zone, zi) => {
        if (zones.has(zone.id))
          ctx.addIssue({ code: 'custom', path: ['sites', si, 'zones', zi, 'id'], message: `duplicate zone id "${zone.id}" in site ${site.id}` });
        zones.add(zone.id);
        checkFloors(zone, (path, message) => ctx.addIssue({ code: 'custom', path: ['sites', si, 'zones', zi, 'floors', ...path], message }));
        zone.devices.forEach((d, di) => {
          const where = `${site.id}/${zone.id}`;
          if (devices.has(d.id))
            ctx.addIssue({
              code: 'custom',
              path: ['sites', si, 'zones', zi, 'devices', di, 'id'],
              message: `device id "${d.id}" is already used in ${devices.get(d.id)}: device ids are unique across the farm`,
            });
          devices.set(d.id, where);
        });
      });
    });
    const sites = new Set(cfg.sites.map((s) => s.id));
    if (sites.size !== cfg.sites.length) ctx.addIssue({ code: 'custom', path: ['sites'], message: 'site ids must be unique' });
    checkRegisterZones(cfg, ctx);
    const users = new Set<string>();
    cfg.users.forEach((u, ui) => {
      if (users.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', ui, 'name'], message: `duplicate user "${u.name}"` });
      users.add(u.name);
      u.sites?.forEach((site, si) => {
        if (!sites.has(site))
          ctx.addIssue({
            code: 'custom',
            path: ['users', ui, 'sites', si],
            message: `there is no site "${site}" in this file (sites: ${[...sites].join(', ')})`,
          });
      });
    });
    checkNotificationRefs(cfg, ctx);
  });

/**
 * A floor must name an actuator type the zone has, or it would silently never hold. Rule ids it names that are not
 * running are logged at start and after a rule replacement (rules/engine.ts), as a rule's unknown ids are.
 */
function checkFloors(zone: z.output<typeof Zone>, issue: (path: (string | number)[], message: string) => void): void {
  const ids = new Set<string>();
  (zone.floors ?? []).forEach((f, fi) => {
    if (ids.has(f.id)) issue([fi, 'id'], `duplicate floor id "${f.id}" in zone ${zone.id}`);
    ids.add(f.id);
    if (!zone.devices.some((d) => d.role === 'actuator' && d.type === f.type))
      issue([fi, 'type'], `zone ${zone.id} has no ${f.type} for floor "${f.id}": add one or change the type`);
  });
}

/** Every animal's zone is a zone of the farm; a zone id used by two sites needs the animal's `site`. */
function checkRegisterZones(cfg: { sites: { id: string; zones: { id: string }[] }[]; animals: z.output<typeof AnimalsSection> }, ctx: z.RefinementCtx): void {
  const sitesOf = new Map<string, string[]>();
  for (const s of cfg.sites) for (const zone of s.zones) sitesOf.set(zone.id, [...(sitesOf.get(zone.id) ?? []), s.id]);
  const tags = new Set<string>();
  cfg.animals.register.forEach((a, i) => {
    const path = ['animals', 'register', i];
    if (tags.has(a.tag)) ctx.addIssue({ code: 'custom', path: [...path, 'tag'], message: `tag ${a.tag} is registered twice: each animal once` });
    tags.add(a.tag);
    const sites = sitesOf.get(a.zone) ?? [];
    if (a.site && !sites.includes(a.site)) ctx.addIssue({ code: 'custom', path: [...path, 'zone'], message: `site ${a.site} has no zone "${a.zone}"` });
    else if (sites.length === 0)
      ctx.addIssue({ code: 'custom', path: [...path, 'zone'], message: `there is no zone "${a.zone}" in the farm: use a zone id from sites[].zones` });
    else if (!a.site && sites.length > 1)
      ctx.addIssue({ code: 'custom', path: [...path, 'site'], message: `zone "${a.zone}" is in sites ${sites.join(' and ')}: add site: to say which` });
  });
}

/** Channels have unique ids, and routes name channels, sites and zones the file has. */
function checkNotificationRefs(
  cfg: { sites: { id: string; zones: { id: string }[] }[]; channels: { id: string }[]; notifications: z.output<typeof NotificationRoute>[] },
  ctx: z.RefinementCtx,
): void {
  const channels = new Set<string>();
  cfg.channels.forEach((c, i) => {
    if (channels.has(c.id)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'id'], message: `duplicate channel id "${c.id}"` });
    channels.add(c.id);
  });
  const known = [...channels].join(', ') || 'none defined';
  cfg.notifications.forEach((route, ri) => {
    const refs: [string, (string | number)[]][] = [
      ...route.channels.map((c, i): [string, (string | number)[]] => [c, ['channels', i]]),
      ...(route.escalate?.channels ?? []).map((c, i): [string, (string | number)[]] => [c, ['escalate', 'channels', i]]),
    ];
    for (const [id, path] of refs)
      if (!channels.has(id))
        ctx.addIssue({ code: 'custom', path: ['notifications', ri, ...path], message: `no channel "${id}" under channels: (defined: ${known})` });
    const sites = route.match.site ?? cfg.sites.map((s) => s.id);
    route.match.site?.forEach((site, i) => {
      if (!cfg.sites.some((s) => s.id === site))
        ctx.addIssue({ code: 'custom', path: ['notifications', ri, 'match', 'site', i], message: `no site "${site}" in sites:` });
    });
    route.match.zone?.forEach((zone, i) => {
      if (!cfg.sites.some((s) => sites.includes(s.id) && s.zones.some((z) => z.id === zone)))
        ctx.addIssue({
          code: 'custom',
          path: ['notifications', ri, 'match', 'zone', i],
          message: `no zone "${zone}" in ${route.match.site ? `site ${route.match.site.join(', ')}` : 'any site'}`,
        });
    });
  });
}

export type FarmConfigT = z.output<typeof FarmConfig>;
export type FloorT = z.output<typeof Floor>;
export type SiteT = z.output<typeof Site>;
export type ZoneT = z.output<typeof Zone>;
export type DeviceT = z.output<typeof Device>;
export type UserT = z.output<typeof User>;
export type { AnimalEntryT, AnimalsSectionT } from './animals.js';
export type { LocalTextT };
export { LocalText };
