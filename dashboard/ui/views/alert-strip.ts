import { raisedAt, stripGroups, type AlertGroup } from '../alert-groups.js';
import { esc, fmtClock } from '../dom.js';
import { currentLang, t } from '../i18n.js';
import { findSite, model } from '../state.js';
import { chip, groupAlerts, groupTitle, groupWorst, where } from './alert-parts.js';

/**
 * The strip of alerts on top of the overview and the wall: grouped ("12 pipes red"; a gauge's worst rain window),
 * unacknowledged only (acknowledged ones give up their places and are counted), at most `slots` places, and when
 * there are more groups than places the storm and "not responding" ones keep theirs (alert-groups.ts).
 */
function item(g: AlertGroup): string {
  const first = g.alerts[0];
  const href = g.alerts.length === 1 ? `#/site/${esc(first.site)}/zone/${esc(first.zone)}` : `#/alerts`;
  const zone = findSite(g.site)?.timeZone;
  // Two lines: what, and where (a group: its worst alert in words and how many more) with when it was raised.
  const where_ = g.alerts.length > 1 ? esc(groupWorst(g)) : where(first, false);
  return `<a class="strip-alert sev-${esc(g.severity)}" data-state="${g.unacked > 0 ? 'open' : 'acknowledged'}" data-rule="${esc(g.rule)}" href="${href}" data-testid="overview-alert">
      ${chip(g)}
      <span class="strip-msg">${esc(groupTitle(g))}</span>
      <span class="strip-where">${where_} · ${esc(fmtClock(Math.max(...g.alerts.map(raisedAt)), currentLang(), zone))}</span>
    </a>`;
}

export function alertStrip(slots: number): string {
  const groups = groupAlerts([...model.activeAlerts.values()]);
  const { shown, more, acknowledged } = stripGroups(groups, slots);
  if (shown.length === 0 && acknowledged === 0) return `<p class="strip-ok" data-testid="overview-no-alerts">● ${esc(t('alerts.none'))}</p>`;
  const extra = [
    more > 0 ? `<a class="strip-more" href="#/alerts" data-testid="strip-more">${esc(t('alerts.stripMore', { n: more }))}</a>` : '',
    acknowledged > 0 ? `<a class="strip-acked" href="#/alerts" data-testid="strip-acked">${esc(t('alerts.stripAcked', { n: acknowledged }))}</a>` : '',
  ].join('');
  const none = shown.length === 0 ? `<p class="strip-ok" data-testid="overview-no-alerts">● ${esc(t('alerts.none'))}</p>` : '';
  return `${none}${shown.map(item).join('')}${extra ? `<div class="strip-extra">${extra}</div>` : ''}`;
}
