import { silenceFor } from '../../../notifications/silences.js';
import type { AlertT, DeliveryT, SilenceT } from '../../schemas.js';
import { del, get, post } from '../api.js';
import { esc, fmt, fmtTime, toast } from '../dom.js';
import { alertText, currentLang, named, t, tr, type MessageKey } from '../i18n.js';
import { canOperate, findSite, model, setSilences } from '../state.js';
import type { View } from './view.js';

/**
 * Active alerts grouped by severity (acknowledge; silence from an alert; each alert's notification deliveries and
 * whether a silence holds it back), the silences and maintenance windows, and the last 24 hours of alert events.
 */
const SEVERITIES = ['critical', 'warning', 'info'] as const;
const DURATIONS = [
  ['30m', 30],
  ['1h', 60],
  ['4h', 240],
  ['12h', 720],
  ['24h', 1440],
] as const;

function where(a: AlertT): string {
  const site = findSite(a.site);
  const zone = site?.zones.find((z) => z.id === a.zone);
  return `<a href="#/site/${esc(a.site)}/zone/${esc(a.zone)}">${esc(named(site, a.site))} / ${esc(named(zone, a.zone))}</a>`;
}

/** The silence holding an alert back: as the API said, or (for live events) by the same rule the server applies. */
function silenceOf(a: AlertT): { endsAt: number; reason: string } | undefined {
  return a.silence ?? silenceFor(a, model.silences, Date.now());
}

export function alertRow(a: AlertT, extra = ''): string {
  const acked = a.state === 'acknowledged';
  const silence = silenceOf(a);
  const ack = canOperate() && !acked ? `<button type="button" data-action="ack" data-alert-id="${esc(a.id)}" data-testid="ack-button">${esc(t('alerts.ack'))}</button>` : '';
  const silenced = silence ? `<span class="silenced" data-testid="alert-silenced">${esc(t('alerts.silenced', { until: fmtTime(silence.endsAt, currentLang(), zoneOf(a.site)), reason: silence.reason }))}</span>` : '';
  return `<li class="alert-row sev-${esc(a.severity)}${silence ? ' is-silenced' : ''}" data-testid="alert-row" data-alert-id="${esc(a.id)}" data-state="${esc(a.state)}">
      <span class="sev-chip">${esc(a.level ? tr('level', a.level) : tr('severity', a.severity))}</span>
      <span class="alert-msg">${esc(alertText(a))}${a.value !== null && a.value !== undefined ? ` <b>${fmt(a.value)}</b>` : ''}</span>
      <span class="alert-where">${where(a)}</span>
      <span class="muted" data-testid="alert-time">${esc(fmtTime(a.ts, currentLang(), findSite(a.site)?.timeZone))}</span>
      <span class="alert-state" data-testid="alert-state">${esc(acked ? t('alerts.ackedBy', { by: a.by ?? '' }) : tr('alertState', a.state))}</span>
      ${silenced}
      ${ack}
      ${extra}
    </li>`;
}

/** Times are told in the site's zone (a silence by rule alone, or a test delivery, in the first site's). */
function zoneOf(site: string | undefined): string | undefined {
  return (site ? findSite(site) : undefined)?.timeZone ?? model.sites[0]?.timeZone;
}

function deliveriesLine(list: DeliveryT[] | undefined): string {
  if (!list || list.length === 0) return '';
  const items = list
    .map((d) => {
      const detail = d.outcome === 'sent' ? fmtTime(d.sentAt, currentLang(), zoneOf(d.site)) : d.attempts > 1 ? t('notify.attempts', { n: d.attempts }) : '';
      const title = d.error ? ` title="${esc(d.error)}"` : '';
      return `<span class="delivery outcome-${esc(d.outcome)}" data-testid="delivery" data-channel="${esc(d.channel)}" data-outcome="${esc(d.outcome)}"${title}>${esc(d.channel)}: ${esc(tr('outcome', d.outcome))}${detail ? ` · ${esc(detail)}` : ''}</span>`;
    })
    .join('');
  return `<div class="deliveries" data-testid="alert-deliveries"><span class="muted">${esc(t('notify.title'))}:</span> ${items}</div>`;
}

function silenceForm(a: AlertT): string {
  const site = findSite(a.site);
  const zone = site?.zones.find((z) => z.id === a.zone);
  const scopes: [string, string][] = [
    ...(a.device ? [['device', t('silence.scope.device', { device: a.device })] as [string, string]] : []),
    ['zone', t('silence.scope.zone', { zone: named(zone, a.zone) })],
    ['site', t('silence.scope.site', { site: named(site, a.site) })],
    ['rule', t('silence.scope.rule', { rule: a.rule })],
  ];
  return `<form class="silence-form" data-testid="silence-form" data-alert-id="${esc(a.id)}">
      <label>${esc(t('silence.scope'))} <select name="scope" data-testid="silence-scope">${scopes.map(([v, label]) => `<option value="${v}">${esc(label)}</option>`).join('')}</select></label>
      <label>${esc(t('silence.for'))} <select name="minutes" data-testid="silence-duration">${DURATIONS.map(([k, m]) => `<option value="${m}"${m === 60 ? ' selected' : ''}>${esc(t(`duration.${k}` as MessageKey))}</option>`).join('')}</select></label>
      <label>${esc(t('silence.reason'))} <input name="reason" required maxlength="500" placeholder="${esc(t('silence.reasonPlaceholder'))}" data-testid="silence-reason"></label>
      <button type="submit" data-testid="silence-submit">${esc(t('silence.create'))}</button>
      <button type="button" class="ghost" data-view-action="silence-cancel">${esc(t('silence.cancel'))}</button>
    </form>`;
}

function matchText(s: SilenceT): string {
  const site = s.match.site ? findSite(s.match.site) : undefined;
  const zone = s.match.zone ? site?.zones.find((z) => z.id === s.match.zone) : undefined;
  const parts: string[] = [];
  if (s.match.site) parts.push(`${t('match.site')} ${named(site, s.match.site)}`);
  if (s.match.zone) parts.push(`${t('match.zone')} ${named(zone, s.match.zone)}`);
  if (s.match.device) parts.push(`${t('match.device')} ${s.match.device}`);
  if (s.match.rule) parts.push(`${t('match.rule')} ${s.match.rule}`);
  return parts.join(' · ');
}

function silencesPanel(): string {
  const list = model.silences;
  if (list.length === 0) return `<p class="muted" data-testid="no-silences">${esc(t('silence.none'))}</p>`;
  const head = ['silence.colWhat', 'silence.colReason', 'silence.colUntil', 'silence.colBy'].map((k) => `<th>${esc(t(k as MessageKey))}</th>`).join('');
  const rows = list
    .map((s) => {
      const zone = zoneOf(s.match.site);
      const pending = s.startsAt > Date.now() ? ` (${t('silence.pending', { from: fmtTime(s.startsAt, currentLang(), zone) })})` : '';
      const end = canOperate() ? `<button type="button" class="ghost" data-view-action="silence-end" data-silence-id="${esc(s.id)}" data-testid="silence-end">${esc(t('silence.end'))}</button>` : '';
      return `<tr data-testid="silence-row" data-silence-id="${esc(s.id)}"><td>${esc(matchText(s))}</td><td>${esc(s.reason)}</td><td>${esc(fmtTime(s.endsAt, currentLang(), zone) + pending)}</td><td>${esc(s.createdBy)}</td><td>${end}</td></tr>`;
    })
    .join('');
  return `<div class="table-wrap"><table class="table" data-testid="silences-table"><thead><tr>${head}<th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
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

/** `#/alerts?alert=ID` (the link in a notification): that alert is highlighted and scrolled to. */
export function alertsView(focus?: string): View {
  let history: AlertT[] = [];
  let deliveries = new Map<string, DeliveryT[]>();
  let formFor: string | undefined;
  let root: HTMLElement | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;

  const slot = (name: string) => root?.querySelector<HTMLElement>(`[data-slot="${name}"]`);
  function activePanel(): string {
    const active = [...model.activeAlerts.values()].sort((a, b) => b.ts - a.ts);
    if (active.length === 0) return `<p class="muted" data-testid="no-alerts">${esc(t('alerts.none'))}</p>`;
    const extra = (a: AlertT) =>
      (canOperate() && !silenceOf(a) && formFor !== a.id ? `<button type="button" class="ghost" data-view-action="silence-open" data-alert-id="${esc(a.id)}" data-testid="silence-button">${esc(t('alerts.silence'))}</button>` : '') +
      deliveriesLine(deliveries.get(a.id)) +
      (formFor === a.id ? silenceForm(a) : '');
    return SEVERITIES.map((sev) => {
      const list = active.filter((a) => a.severity === sev);
      return list.length === 0 ? '' : `<h3 class="sev-title sev-${sev}">${esc(tr('severity', sev))} (${list.length})</h3><ul class="alert-list">${list.map((a) => alertRow(a, extra(a))).join('')}</ul>`;
    }).join('');
  }
  const paintActive = () => {
    const s = slot('active');
    if (!s) return;
    s.innerHTML = activePanel();
    if (focus) s.querySelector(`[data-alert-id="${CSS.escape(focus)}"]`)?.classList.add('focused');
  };
  const paintSilences = () => {
    const s = slot('silences');
    if (s) s.innerHTML = silencesPanel();
  };

  async function loadDeliveries(): Promise<void> {
    const list = (await get<{ deliveries: DeliveryT[] }>('/api/notifications?from=-24h&limit=1000', { quiet401: true })).deliveries;
    const by = new Map<string, DeliveryT[]>();
    for (const d of [...list].reverse()) for (const a of d.alerts) by.set(a.id, [...(by.get(a.id) ?? []).filter((x) => x.channel !== d.channel), d]);
    deliveries = by;
    if (!formFor) paintActive();
  }
  async function loadSilences(): Promise<void> {
    setSilences((await get<{ silences: SilenceT[] }>('/api/silences', { quiet401: true })).silences);
  }

  async function onClick(event: MouseEvent): Promise<void> {
    const button = (event.target as HTMLElement).closest<HTMLElement>('[data-view-action]');
    if (!button) return;
    const action = button.dataset.viewAction;
    if (action === 'silence-open') {
      formFor = button.dataset.alertId;
      paintActive();
      root?.querySelector<HTMLInputElement>('[data-testid="silence-reason"]')?.focus();
    } else if (action === 'silence-cancel') {
      formFor = undefined;
      paintActive();
    } else if (action === 'silence-end') {
      await del(`/api/silences/${encodeURIComponent(button.dataset.silenceId!)}`);
      await loadSilences();
    }
  }

  async function onSubmit(event: SubmitEvent): Promise<void> {
    const form = (event.target as HTMLElement).closest<HTMLFormElement>('[data-testid="silence-form"]');
    if (!form) return;
    event.preventDefault();
    const alert = model.activeAlerts.get(form.dataset.alertId ?? '');
    if (!alert) return;
    const data = new FormData(form);
    const scope = String(data.get('scope'));
    const match = scope === 'device' ? { site: alert.site, zone: alert.zone, device: alert.device } : scope === 'zone' ? { site: alert.site, zone: alert.zone } : scope === 'site' ? { site: alert.site } : { rule: alert.rule };
    const { silence } = await post<{ silence: SilenceT }>('/api/silences', { match, forMinutes: Number(data.get('minutes')), reason: String(data.get('reason') ?? '') });
    formFor = undefined;
    toast(t('silence.created', { until: fmtTime(silence.endsAt, currentLang(), zoneOf(alert.site)) }), 'info');
    await loadSilences();
    await loadDeliveries();
  }

  const clickListener = (e: MouseEvent) => void onClick(e).catch((err: Error) => toast(t('common.error', { msg: err.message })));
  const submitListener = (e: SubmitEvent) => void onSubmit(e).catch((err: Error) => toast(t('common.error', { msg: err.message })));

  return {
    sites: () => model.sites.map((s) => s.id),
    async render(el) {
      root = el;
      el.innerHTML = `<h1 class="view-title">${esc(t('nav.alerts'))}</h1>
        <section class="card" data-testid="alerts-panel"><div class="card-head"><h2>${esc(t('alerts.active'))}</h2>${csvLink('active')}</div><div data-slot="active"></div></section>
        <section class="card" data-testid="silences-panel"><h2>${esc(t('silence.title'))}</h2><p class="muted small">${esc(t('silence.help'))}</p><div data-slot="silences"></div></section>
        <section class="card"><div class="card-head"><h2>${esc(t('alerts.history'))}</h2>${csvLink('all')}</div><div data-slot="history"><p class="muted">${esc(t('common.loading'))}</p></div></section>`;
      el.addEventListener('click', clickListener);
      el.addEventListener('submit', submitListener);
      paintActive();
      paintSilences();
      if (focus) slot('active')?.querySelector(`[data-alert-id="${CSS.escape(focus)}"]`)?.scrollIntoView({ block: 'center' });
      await Promise.all([loadSilences(), loadDeliveries().catch(() => {})]);
      // Deliveries change on their own (grouping, retries): look again now and then while the page is open.
      poll = setInterval(() => void loadDeliveries().catch(() => {}), 10_000);
      history = (await get<{ alerts: AlertT[] }>('/api/alerts?state=all&from=-24h&limit=500')).alerts;
      const h = slot('history');
      if (h) h.innerHTML = historyTable(history);
    },
    onChange(change) {
      if (change.kind === 'silences') {
        paintSilences();
        if (!formFor) paintActive();
        return;
      }
      if (change.kind !== 'alert' && change.kind !== 'alerts' && change.kind !== 'sites') return;
      if (!formFor) paintActive();
      if (change.kind === 'alert') {
        history.unshift(change.alert);
        const h = slot('history');
        if (h) h.innerHTML = historyTable(history);
        setTimeout(() => void loadDeliveries().catch(() => {}), 1500);
      }
    },
    dispose() {
      root?.removeEventListener('click', clickListener);
      root?.removeEventListener('submit', submitListener);
      if (poll) clearInterval(poll);
    },
  };
}
