import { ppmToMgM3 } from '../../core/gas-units.js';
import { localText } from '../../core/local-text.js';
import type { RuleT } from '../../rules/schema.js';
import type { AlertT, SiteViewT } from '../schemas.js';
import { fmt } from './dom.js';
import { alertText as serverText, currentLang, named, t, tr, type MessageKey } from './i18n.js';

/**
 * An alert's text in the reader's language. The event's `message` is English, built from ids; the page writes its
 * own from the same facts: a rule's alert `message` (a plain string or `{ en, zh }`) filled with names in the
 * reader's language, and the built-in alerts (not responding, fail-safe, operator hold, missing animal, head count)
 * from templates in ui/messages.ts. An alert of a rule the page does not know keeps the server's text (in the
 * reader's language when the rule gave both: `messages`).
 */
export interface AlertTextContext {
  rules: readonly RuleT[];
  site: SiteViewT | undefined;
}

type Vars = Record<string, string | number>;

function fill(template: string, vars: Vars): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (vars[name] === undefined ? whole : String(vars[name])));
}

/** A grade in the reader's language: the drainage colours, the THI bands, else as the rule names it. */
export function levelName(level: string | null | undefined): string {
  if (!level) return '';
  for (const prefix of ['level', 'thi', 'grade']) {
    const text = tr(prefix, level);
    if (text !== level) return text;
  }
  return level;
}

const units = new Map<string, Intl.NumberFormat>();

/** A duration in the reader's language: "10 min", "6 h", "10分钟", "6小时". */
export function fmtDuration(ms: number, lang = currentLang()): string {
  const [value, unit] =
    ms >= 86_400_000 && ms % 86_400_000 === 0
      ? [ms / 86_400_000, 'day']
      : ms >= 3_600_000
        ? [Math.round((ms / 3_600_000) * 10) / 10, 'hour']
        : ms >= 60_000
          ? [Math.round(ms / 60_000), 'minute']
          : [Math.round(ms / 1000), 'second'];
  const key = `${lang}|${unit}`;
  let format = units.get(key);
  if (!format) units.set(key, (format = new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'short' })));
  return format.format(value);
}

/**
 * What to call a device in a sentence: its name; else an actuator by zone and type ("Shed 1 fan"); a zone's only
 * sensor by the zone ("Pipe 05"); else the zone and the id.
 */
export function deviceLabel(site: SiteViewT | undefined, zoneId: string, deviceId: string | undefined): string {
  const zone = site?.zones.find((z) => z.id === zoneId);
  if (!deviceId) return named(zone, zoneId);
  const device = zone?.devices.find((d) => d.id === deviceId);
  if (!zone || !device) return deviceId;
  if (device.name) return named(device);
  if (device.role === 'actuator') return t('device.actuatorIn', { zone: named(zone), type: tr('actuator', device.type ?? '') });
  const sensors = zone.devices.filter((d) => d.role === device.role);
  return sensors.length === 1 ? named(zone) : `${named(zone)} (${device.id})`;
}

function actionText(action: string, value?: number): string {
  return action === 'set' ? t('hold.what.set', { value: fmt(value, 0) }) : t(`hold.what.${action}` as MessageKey);
}

function systemText(a: AlertT, site: SiteViewT | undefined): string | undefined {
  const d = a.detail;
  if (!d) return undefined;
  const zone = named(
    site?.zones.find((z) => z.id === a.zone),
    a.zone,
  );
  const device = deviceLabel(site, a.zone, a.device);
  switch (d.kind) {
    case 'actuator':
      return t('sys.actuator', { device, action: actionText(d.action, d.value), attempts: d.attempts });
    case 'failsafe':
      return t('sys.failsafe', {
        zone,
        after: fmtDuration(d.afterMs),
        actions: d.actuators.map((x) => `${tr('actuator', x.type)} ${t(`state.${x.action}`)}`).join(t('list.sep')),
      });
    case 'hold':
      return t('sys.hold', {
        device,
        what: actionText(d.action, d.value),
        user: d.user,
        until: new Intl.DateTimeFormat(currentLang(), { timeZone: site?.timeZone ?? 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
          d.until,
        ),
        rules: d.rules.join(t('list.sep')),
        want: actionText(d.want, d.wantValue),
      });
    case 'animal-missing': {
      const who = d.group ? t('sys.animalGroup', { tag: d.tag, group: d.group }) : d.tag;
      const last = d.last
        ? t('sys.animalLast', {
            reader: deviceLabel(site, d.last.zone, d.last.device),
            zone: named(
              site?.zones.find((z) => z.id === d.last!.zone),
              d.last.zone,
            ),
            ago: fmtDuration(d.last.agoMs),
          })
        : t('sys.animalNever');
      return t('sys.animalMissing', { who, zone, after: fmtDuration(d.missingAfterMs), last });
    }
    case 'head-count': {
      const diff = d.counted - d.expected;
      const what = diff < 0 ? t('sys.headsMissing', { n: -diff }) : t('sys.headsMore', { n: diff });
      return (
        t('sys.headCount', { zone, counted: d.counted, expected: d.expected, what, grace: fmtDuration(d.graceMs) }) +
        (d.out > 0 ? t('sys.headsOut', { n: d.out }) : '')
      );
    }
  }
}

function staleMs(rule: RuleT): number | undefined {
  const find = (c: RuleT['when']): number | undefined =>
    'stale' in c ? c.stale : 'all' in c ? c.all.map(find).find((x) => x !== undefined) : 'any' in c ? c.any.map(find).find((x) => x !== undefined) : undefined;
  return find(rule.when);
}

export function alertText(a: AlertT, ctx: AlertTextContext): string {
  const lang = currentLang();
  if (a.rule.startsWith('system:')) return systemText(a, ctx.site) ?? serverText(a);
  const rule = ctx.rules.find((r) => r.id === a.rule);
  if (!rule) return serverText(a);
  const action = rule.actions.flatMap((x) => ('alert' in x ? [x.alert] : []))[0];
  const stale = staleMs(rule);
  const template =
    (a.state === 'cleared' ? localText(action?.clearMessage, lang) : undefined) ??
    localText(action?.message, lang) ??
    (stale !== undefined && !('metric' in rule.when) ? t('alertText.stale') : t(a.level ? 'alertText.leveled' : 'alertText.plain'));
  const site = ctx.site;
  return fill(template, {
    // As the server writes it: at most one decimal, none when whole ("Ammonia 26 ppm", "Pipe 05 at 91.3 %").
    value: a.value === null ? '—' : new Intl.NumberFormat(lang, { maximumFractionDigits: 1, useGrouping: false }).format(a.value),
    level: levelName(a.level),
    metric: a.metric ? tr('metric', a.metric) : '',
    site: named(site, a.site),
    zone: named(
      site?.zones.find((z) => z.id === a.zone),
      a.zone,
    ),
    device: deviceLabel(site, a.zone, a.device),
    rule: rule.description ?? rule.id,
    stale: stale !== undefined ? fmtDuration(stale) : '',
    // A gas in mg/m³ (20 °C, 101.325 kPa), as the server writes it.
    mg_m3:
      a.metric && a.value !== null
        ? new Intl.NumberFormat(lang, { maximumFractionDigits: 1, useGrouping: false }).format(ppmToMgM3(a.metric, a.value) ?? a.value)
        : '',
  });
}
