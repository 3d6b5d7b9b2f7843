import type { AlertT } from '../../schemas.js';
import { get } from '../api.js';
import { esc, fmt, fmtTime } from '../dom.js';
import { alertText, currentLang, named, t, tr } from '../i18n.js';
import { canOperate, findSite, model } from '../state.js';
import type { View } from './view.js';

/** Active alerts grouped by severity with acknowledge for operators, and the last 24 hours of alert events. */
const SEVERITIES = ['critical', 'warning', 'info'] as const;

function where(a: AlertT): string {
  const site = findSite(a.site);
  const zone = site?.zones.find((z) => z.id === a.zone);
  return `<a href="#/site/${esc(a.site)}/zone/${esc(a.zone)}">${esc(named(site, a.site))} / ${esc(named(zone, a.zone))}</a>`;
}

export function alertRow(a: AlertT): string {
  const acked = a.state === 'acknowledged';
  const ack = canOperate() && !acked ? `<button type="button" data-action="ack" data-alert-id="${esc(a.id)}" data-testid="ack-button">${esc(t('alerts.ack'))}</button>` : '';
  return `<li class="alert-row sev-${esc(a.severity)}" data-testid="alert-row" data-alert-id="${esc(a.id)}" data-state="${esc(a.state)}">
      <span class="sev-chip">${esc(a.level ? tr('level', a.level) : tr('severity', a.severity))}</span>
      <span class="alert-msg">${esc(alertText(a))}${a.value !== null && a.value !== undefined ? ` <b>${fmt(a.value)}</b>` : ''}</span>
      <span class="alert-where">${where(a)}</span>
      <span class="muted" data-testid="alert-time">${esc(fmtTime(a.ts, currentLang(), findSite(a.site)?.timeZone))}</span>
      <span class="alert-state" data-testid="alert-state">${esc(acked ? t('alerts.ackedBy', { by: a.by ?? '' }) : tr('alertState', a.state))}</span>
      ${ack}
    </li>`;
}

function activePanel(): string {
  const active = [...model.activeAlerts.values()].sort((a, b) => b.ts - a.ts);
  if (active.length === 0) return `<p class="muted" data-testid="no-alerts">${esc(t('alerts.none'))}</p>`;
  return SEVERITIES.map((sev) => {
    const list = active.filter((a) => a.severity === sev);
    return list.length === 0 ? '' : `<h3 class="sev-title sev-${sev}">${esc(tr('severity', sev))} (${list.length})</h3><ul class="alert-list">${list.map(alertRow).join('')}</ul>`;
  }).join('');
}

function historyTable(history: AlertT[]): string {
  if (history.length === 0) return `<p class="muted">${esc(t('alerts.noHistory'))}</p>`;
  const rows = history
    .slice(0, 200)
    .map((a) => `<tr class="sev-${esc(a.severity)}"><td>${esc(fmtTime(a.ts, currentLang(), findSite(a.site)?.timeZone))}</td><td>${esc(tr('severity', a.severity))}</td><td>${esc(tr('alertState', a.state))}</td><td>${esc(alertText(a))}</td><td>${where(a)}</td></tr>`)
    .join('');
  const head = ['alerts.colTime', 'alerts.colSeverity', 'alerts.colState', 'alerts.colMessage', 'alerts.colWhere'].map((k) => `<th>${esc(t(k as 'alerts.colTime'))}</th>`).join('');
  return `<div class="table-wrap"><table class="table" data-testid="alert-history"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The active alerts, or the last 24 hours of alert events, as CSV (times in each site's zone). */
function csvLink(state: 'active' | 'all'): string {
  const q = new URLSearchParams({ state, format: 'csv', lang: currentLang(), ...(state === 'all' ? { from: '-24h' } : {}) });
  return `<a class="button small" download data-testid="download-alerts-${state}" href="/api/alerts?${esc(q.toString())}">⤓ ${esc(t('export.csv'))}</a>`;
}

export function alertsView(): View {
  let history: AlertT[] = [];
  const paintActive = (root: HTMLElement) => {
    const slot = root.querySelector<HTMLElement>('[data-slot="active"]');
    if (slot) slot.innerHTML = activePanel();
  };
  return {
    sites: () => model.sites.map((s) => s.id),
    async render(root) {
      root.innerHTML = `<h1 class="view-title">${esc(t('nav.alerts'))}</h1>
        <section class="card" data-testid="alerts-panel"><div class="card-head"><h2>${esc(t('alerts.active'))}</h2>${csvLink('active')}</div><div data-slot="active"></div></section>
        <section class="card"><div class="card-head"><h2>${esc(t('alerts.history'))}</h2>${csvLink('all')}</div><div data-slot="history"><p class="muted">${esc(t('common.loading'))}</p></div></section>`;
      paintActive(root);
      history = (await get<{ alerts: AlertT[] }>('/api/alerts?state=all&from=-24h&limit=500')).alerts;
      const slot = root.querySelector<HTMLElement>('[data-slot="history"]');
      if (slot) slot.innerHTML = historyTable(history);
    },
    onChange(change, root) {
      if (change.kind !== 'alert' && change.kind !== 'alerts' && change.kind !== 'sites') return;
      paintActive(root);
      if (change.kind === 'alert') {
        history.unshift(change.alert);
        const slot = root.querySelector<HTMLElement>('[data-slot="history"]');
        if (slot) slot.innerHTML = historyTable(history);
      }
    },
  };
}
