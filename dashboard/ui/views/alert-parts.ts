import { silenceFor } from '../../../notifications/silences.js';
import type { AlertT } from '../../schemas.js';
import { groupAlerts, isAcked, raisedAt, stripGroups, type AlertGroup } from '../alert-groups.js';
import { alertText, levelName } from '../alert-text.js';
import { esc, fmt, fmtTime } from '../dom.js';
import { currentLang, t, tr, type MessageKey, named } from '../i18n.js';
import { canOperate, findSite, model } from '../state.js';
import { unitOf } from './cards.js';

/**
 * Alerts as every view shows them: a chip with the grade's colour, shape and name (colour is never the only cue),
 * the text in the reader's language, where, when it was raised and when it was acknowledged (both), and for
 * operators an acknowledge button (with a checkbox for acknowledging several at once on the alerts page).
 */
const GRADES = new Set(['blue', 'yellow', 'orange', 'red']);

export function textOf(a: AlertT): string {
  return alertText(a, { rules: model.rules, site: findSite(a.site) });
}

/** The chip: the grade when the alert has a colour grade, else the severity; with its shape. */
export function chip(a: Pick<AlertT, 'severity' | 'level'>): string {
  const grade = a.level && GRADES.has(a.level) ? a.level : undefined;
  const shape = grade ? tr('grade.shape', grade) : tr('severity.shape', a.severity);
  const label = a.level ? levelName(a.level) : tr('severity', a.severity);
  return `<span class="sev-chip ${grade ? `grade-${grade}` : `sev-${esc(a.severity)}`}" data-testid="alert-chip"><span aria-hidden="true">${shape}</span> ${esc(label)}</span>`;
}

export function where(a: Pick<AlertT, 'site' | 'zone'>, link = true): string {
  const site = findSite(a.site);
  const zone = site?.zones.find((z) => z.id === a.zone);
  const text = `${esc(named(site, a.site))} / ${esc(named(zone, a.zone))}`;
  return link ? `<a href="#/site/${esc(a.site)}/zone/${esc(a.zone)}">${text}</a>` : text;
}

export function when(a: AlertT): string {
  const zone = findSite(a.site)?.timeZone;
  const lang = currentLang();
  const raised = `<span data-testid="alert-raised">${esc(t('alerts.raised', { t: fmtTime(raisedAt(a), lang, zone) }))}</span>`;
  if (isAcked(a)) return `${raised} · <span data-testid="alert-acked">${esc(t('alerts.ackedAt', { by: a.by ?? '', t: fmtTime(a.ts, lang, zone) }))}</span>`;
  if (a.state === 'escalated' && a.raisedAt !== undefined && a.ts !== a.raisedAt)
    return `${raised} · ${esc(t('alerts.escalatedAt', { t: fmtTime(a.ts, lang, zone) }))}`;
  return raised;
}

/** The silence holding an alert back: as the API said, or (for live events) by the same rule the server applies. */
export function silenceOf(a: AlertT): { endsAt: number; reason: string } | undefined {
  return a.silence ?? silenceFor(a, model.silences, Date.now());
}

/**
 * One alert. `select` adds a checkbox for acknowledging several at once; `extra` is what the alerts page adds under
 * it (the silence button or form, the notification deliveries).
 */
export function alertRow(a: AlertT, options: { select?: boolean; extra?: string } = {}): string {
  const acked = isAcked(a);
  const silence = silenceOf(a);
  const silenced = silence
    ? `<span class="silenced" data-testid="alert-silenced">${esc(t('alerts.silenced', { until: fmtTime(silence.endsAt, currentLang(), findSite(a.site)?.timeZone), reason: silence.reason }))}</span>`
    : '';
  const ack =
    canOperate() && !acked
      ? `<button type="button" class="ack" data-action="ack" data-alert-id="${esc(a.id)}" data-testid="ack-button">${esc(t('alerts.ack'))}</button>`
      : '';
  const select =
    options.select && canOperate() && !acked
      ? `<label class="select"><input type="checkbox" data-select="${esc(a.id)}" data-testid="alert-select"><span class="visually-hidden">${esc(t('alerts.select'))}: ${esc(textOf(a))}</span></label>`
      : '';
  return `<li class="alert-row sev-${esc(a.severity)}${silence ? ' is-silenced' : ''}" data-testid="alert-row" data-alert-id="${esc(a.id)}" data-state="${esc(a.state)}">
      ${select}${chip(a)}
      <span class="alert-msg" data-testid="alert-text">${esc(textOf(a))}</span>
      <span class="alert-where">${where(a)}</span>
      <span class="alert-when muted" data-testid="alert-time">${when(a)}</span>
      <span class="alert-state" data-testid="alert-state" hidden>${esc(acked ? t('alerts.ackedBy', { by: a.by ?? '' }) : tr('alertState', a.state))}</span>
      ${silenced}
      ${ack}
      ${options.extra ?? ''}
    </li>`;
}

/** What the alerts of a group are: pipes, rain gauges, sheds, actuators, animals. */
function thing(a: AlertT): string {
  if (a.animal) return 'animal';
  if (a.rule === 'system:actuator' || a.rule === 'system:hold') return 'actuator';
  const zone = findSite(a.site)?.zones.find((z) => z.id === a.zone);
  const type = zone?.attributes?.type;
  if (typeof type === 'string' && ['pipe', 'sump', 'rain-gauge'].includes(type)) return type;
  return zone?.kind ?? 'zone';
}

/** "12 pipes red", "10 pipes, 1 sump red" for a group of many; the alert's own text for a group of one. */
export function groupTitle(g: AlertGroup): string {
  if (g.alerts.length === 1) return textOf(g.alerts[0]);
  const counts = new Map<string, number>();
  for (const a of g.alerts) counts.set(thing(a), (counts.get(thing(a)) ?? 0) + 1);
  const plural = new Intl.PluralRules(currentLang());
  const things = [...counts].map(([kind, n]) => t(`things.${kind}.${plural.select(n) === 'one' ? 'one' : 'other'}` as MessageKey, { n })).join(t('list.sep'));
  if (g.level) return t('alerts.groupOf', { things, grade: levelName(g.level) });
  // Without a grade, say what the rule is about: silent sensors, actuators not answering.
  const rule = model.rules.find((r) => r.id === g.rule);
  if (g.rule === 'system:actuator') return t('alerts.groupNotResponding', { things });
  if (rule && 'stale' in rule.when) return t('alerts.groupSilent', { things });
  return t('alerts.groupOf', { things, grade: tr('severity', g.severity) });
}

/** The places of a group, worst first: "Pipe 07 97 %, Pipe 03 91 %, … +9". */
export function groupPlaces(g: AlertGroup, max = 4): string {
  const site = findSite(g.site);
  const names = g.alerts.slice(0, max).map((a) => {
    const zone = named(
      site?.zones.find((z) => z.id === a.zone),
      a.zone,
    );
    return a.value !== null && a.value !== undefined ? `${zone} ${fmt(a.value)}${a.metric ? ` ${unitOf(a.metric)}` : ''}` : zone;
  });
  return names.join(t('list.sep')) + (g.alerts.length > max ? ` … +${g.alerts.length - max}` : '');
}

/** A group's worst alert in words, and how many more: "Pipe 02 at 100 % fill (red) · and 10 more". */
export function groupWorst(g: AlertGroup): string {
  const worst = g.alerts[0];
  const text = textOf(worst);
  // A message that does not say where (the demo farm's Chinese ones leave the place to the title) gets it in front.
  const place = named(
    findSite(worst.site)?.zones.find((z) => z.id === worst.zone),
    worst.zone,
  );
  const said = text.includes(place) ? text : t('alerts.at', { where: place, text });
  return said + (g.alerts.length > 1 ? ` · ${t('alerts.andMore', { n: g.alerts.length - 1 })}` : '');
}

export { groupAlerts, stripGroups };
