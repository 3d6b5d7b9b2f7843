import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { ConfigError, parseFarmConfig } from '../../core/config/load.js';
import type { FarmConfigT } from '../../core/config/schema.js';
import { ProvisionError, type ProvisionRequest } from './args.js';
import { addPair, appendToSeq, appendTopLevelSeq, applyEdit, deviceStyle, findIn, replacePair, type Plain, type TextEdit } from './yaml-edit.js';

/**
 * The change `npm run provision` makes to a farm file's text, decided without touching the disk: one insertion
 * (a device, a zone, a site or a user) or one replaced pair (a secret or password hash). The file must be valid
 * before (otherwise the file is the problem, and we say so) and after (otherwise the options are).
 */
export interface ProvisionPlan {
  text: string;
  /** For the message: what was added or rotated, and where. */
  what: string;
  config: FarmConfigT;
  device?: { id: string; site: string; zone: string };
}

const a = (word: string) => `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;

/** shed-5 -> "Shed 5": a new zone needs a name people can read on the dashboard. */
export function nameFromId(id: string): string {
  const words = id.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function parseValid(text: string, source: string, baseDir: string): FarmConfigT {
  try {
    return parseFarmConfig(text, source, baseDir);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ProvisionError(
      'FILE_INVALID',
      `${source} is invalid as it is, so nothing was written:\n${err.problems.map((p) => `  - ${p.path || '(top level)'}: ${p.message}`).join('\n')}\nFix the file first (the service would not start on it either), then run provision again.`,
    );
  }
}

function whereIs(config: FarmConfigT, deviceId: string): { site: string; zone: string; kind: string; role: string; type?: string } | undefined {
  for (const s of config.sites)
    for (const z of s.zones) for (const d of z.devices) if (d.id === deviceId) return { site: s.id, zone: z.id, kind: z.kind, role: d.role, type: d.type };
  return undefined;
}

function deviceMapOf(doc: ReturnType<typeof parseDocument>, where: { site: string; zone: string }, deviceId: string): YAMLMap {
  const zone = findIn(findIn(doc.get('sites'), where.site)?.get('zones'), where.zone);
  const device = findIn(zone?.get('devices'), deviceId);
  if (!device) throw new ProvisionError('NOT_FOUND', `device ${deviceId} is not written as a YAML map in ${where.site}/${where.zone}: edit its entry by hand`);
  return device;
}

export function planProvision(text: string, req: ProvisionRequest, hash: string, source: string, baseDir: string): ProvisionPlan {
  const before = parseValid(text, source, baseDir);
  const doc = parseDocument(text);
  const style = deviceStyle(doc);
  let edit: TextEdit;
  let what: string;
  let device: ProvisionPlan['device'];

  if (req.kind === 'user') {
    const users = doc.get('users');
    const existing = findIn(users, req.name, 'name');
    const inFile = before.users.find((u) => u.name === req.name);
    if (req.rotate) {
      if (!existing || !inFile)
        throw new ProvisionError('NOT_FOUND', `user ${req.name} is not in ${source}: to add it, leave out --rotate and give --role viewer|operator|admin`);
      if (req.role && req.role !== inFile.role)
        throw new ProvisionError(
          'BAD_ARGUMENT',
          `user ${req.name} is ${a(inFile.role)} in ${source}: --rotate changes only the password, so leave out --role ${req.role} (edit the file to change a role)`,
        );
      edit = replacePair(text, existing, ['password', 'passwordHash'], 'passwordHash', hash);
      what = `a new password for user ${req.name} (${inFile.role})`;
    } else {
      if (existing) throw new ProvisionError('EXISTS', `user ${req.name} exists already: add --rotate to give it a new password`);
      const entry = { name: req.name, role: req.role!, passwordHash: hash };
      const userStyle = isSeq(users) && isMap(users.items[0]) && !users.items[0].flow ? 'block' : 'flow';
      edit = isSeq(users) ? appendToSeq(text, users, entry, userStyle) : appendTopLevelSeq(text, 'users', entry, 'flow');
      what = `user ${req.name} (${req.role})`;
    }
  } else if (req.kind === 'device-rotate') {
    const at = whereIs(before, req.id);
    if (!at)
      throw new ProvisionError(
        'NOT_FOUND',
        `device ${req.id} is not in ${source}: check --id, or leave out --rotate and give --site, --zone and --role to add it`,
      );
    const e = req.expect;
    const place = `${at.site}/${at.zone}`;
    if ((e.site && e.site !== at.site) || (e.zone && e.zone !== at.zone))
      throw new ProvisionError(
        'WRONG_PLACE',
        `device ${req.id} is in ${place}, not in ${e.site ?? at.site}/${e.zone ?? at.zone}: --rotate needs only --id, so leave out --site and --zone (or correct them)`,
      );
    if (e.role && e.role !== at.role)
      throw new ProvisionError(
        'WRONG_PLACE',
        `device ${req.id} is ${a(at.role)}, not ${a(e.role)}: --rotate needs only --id, so leave out --role (or correct it)`,
      );
    if (e.type && e.type !== at.type)
      throw new ProvisionError(
        'WRONG_PLACE',
        `device ${req.id} is ${at.type ? a(at.type) : 'not an actuator'}, not ${a(e.type)}: leave out --type (or correct it)`,
      );
    if (e.zoneKind && e.zoneKind !== at.kind)
      throw new ProvisionError('WRONG_PLACE', `device ${req.id} is in ${a(at.kind)} zone (${place}), not ${a(e.zoneKind)}: leave out --kind`);
    edit = replacePair(text, deviceMapOf(doc, at, req.id), ['secret', 'secretHash'], 'secretHash', hash);
    what = `a new secret for device ${req.id} in ${place}`;
    device = { id: req.id, site: at.site, zone: at.zone };
  } else {
    const taken = whereIs(before, req.id);
    if (taken) {
      const same = taken.site === req.site && taken.zone === req.zone;
      throw new ProvisionError(
        'EXISTS',
        `device ${req.id} exists already${same ? '' : ` in ${taken.site}/${taken.zone}`}: to give it a new secret run with --id ${req.id} --rotate (nothing else needed); to add another device choose another --id`,
      );
    }
    const entry: { [key: string]: Plain | undefined } = { id: req.id, role: req.role, type: req.type, at: req.at, metrics: req.metrics, secretHash: hash };
    const sites = doc.get('sites');
    const siteNode = findIn(sites, req.site);
    const siteCfg = before.sites.find((s) => s.id === req.site);
    const zoneEntry = (kind: string) => ({ id: req.zone, name: req.create?.zoneName ?? nameFromId(req.zone), kind, devices: [entry] });
    if (!siteNode || !siteCfg) {
      if (!req.create)
        throw new ProvisionError(
          'NOT_FOUND',
          `site ${req.site} is not in ${source} (sites: ${before.sites.map((s) => s.id).join(', ')}): check --site, or add --kind shed|field|drain to create site ${req.site} with zone ${req.zone}`,
        );
      const timezone = req.create.timezone ?? before.sites[0].timezone;
      const siteEntry = { id: req.site, name: req.create.siteName ?? nameFromId(req.site), timezone, zones: [zoneEntry(req.create.zoneKind)] };
      edit = appendToSeq(text, sites as Parameters<typeof appendToSeq>[1], siteEntry, 'block', style);
      what = `device ${req.id} in the new zone ${req.zone} of the new site ${req.site} (time zone ${timezone})`;
    } else {
      const zones = siteNode.get('zones') as Parameters<typeof appendToSeq>[1];
      const zoneNode = findIn(zones, req.zone);
      const zoneCfg = siteCfg.zones.find((z) => z.id === req.zone);
      if (!zoneNode || !zoneCfg) {
        if (!req.create)
          throw new ProvisionError(
            'NOT_FOUND',
            `zone ${req.zone} is not in site ${req.site} (zones: ${siteCfg.zones.map((z) => z.id).join(', ')}): check --zone, or add --kind shed|field|drain to create it`,
          );
        edit = appendToSeq(text, zones, zoneEntry(req.create.zoneKind), 'block', style);
        what = `device ${req.id} in the new zone ${req.site}/${req.zone} ("${req.create.zoneName ?? nameFromId(req.zone)}")`;
      } else {
        if (req.create && req.create.zoneKind !== zoneCfg.kind)
          throw new ProvisionError(
            'BAD_ARGUMENT',
            `zone ${req.site}/${req.zone} exists and is ${a(zoneCfg.kind)}, not ${a(req.create.zoneKind)}: leave out --kind (it only creates zones), or choose another --zone`,
          );
        const devices = zoneNode.get('devices');
        // Written like the zone's other devices (a `{ ... }` line or block lines), else like the file's.
        const first = isSeq(devices) ? devices.items[0] : undefined;
        const own = isMap(first) ? (first.flow ? 'flow' : 'block') : style;
        edit = isSeq(devices) ? appendToSeq(text, devices, entry, own) : addPair(text, zoneNode, 'devices', [entry], style);
        what = `device ${req.id} in ${req.site}/${req.zone}`;
      }
    }
    device = { id: req.id, site: req.site, zone: req.zone };
  }

  const after = applyEdit(text, edit);
  let config: FarmConfigT;
  try {
    config = parseFarmConfig(after, source, baseDir);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ProvisionError(
      'RESULT_INVALID',
      `with these options ${source} would become invalid, so nothing was written:\n${err.problems.map((p) => `  - ${p.path || '(top level)'}: ${p.message}`).join('\n')}\nThe file itself is fine: check the options (npm run provision -- --help).`,
    );
  }
  return { text: after, what, config, device };
}
