import type { AlertT, DeliveryT, SilenceT } from '../../schemas.js';
import { filterAlerts, groupAlerts, raisedAt, type AlertFilter, type AlertGroup } from '../alert-groups.js';
import { del, get, post } from '../api.js';
import { esc, fmtTime, toast } from '../dom.js';
import { errorText } from '../error-text.js';
import { currentLang, named, t, tr, type MessageKey } from '../i18n.js';
import { canOperate, findSite, model, setSilences } from '../state.js';
import { alertRow, chip, groupPlaces, groupTitle, silenceOf, textOf, where } from './alert-parts.js';
import type { View } from './view.js';

/**
 * The active alerts, grouped (by site, rule and grade; a gauge's rain windows under its worst one), unacknowledged
 * first, with filters and acknowledging one, a group or a selection at once; under each alert its notification
 * deliveries, whether a silence holds it back, and (operators) "silence" from it; the silences and maintenance
 * windows; and the last 24 hours of alert events, each event once (an acknowledgement's answer and its live echo are
 * the same event). `#/alerts?alert=ID` (the link in a notification) highlights that alert and scrolls to it.
 */
const SEVERITIES = ['critical', 'warning', 'info'] as const;
/** Rows drawn per group before "show all": a storm's hundred pipes stay one click away, not one screen long. */
const ROWS_PER_GROUP = 12;
const DURATIONS = [
  ['30m', 30],
  ['1h', 60],
  ['4h', 240],
  ['12h', 720],
  ['24h', 1440],
] as const;

export { alertRow };

/** What the alerts page adds under an alert (silence button or form, deliveries); nothing elsewhere. */
type Extra = (a: AlertT) => string;
const none: Extra = () => '';

function groupBlock(g: AlertGroup, open: boolean, extra: Extra = none): string {
  const ids = g.alerts.filter((a) => a.state !== 'acknowledged').map((a) => a.id);
  const ackAll =
    canOperate() && ids.length > 1
      ? `<button type="button" class="ack" data-action="ack-many" data-ids="${esc(ids.join(' '))}" data-testid="ack-group">${esc(t('alerts.ackGroup', { n: ids.length }))}</button>`
      : '';
  const row = (a: AlertT) => alertRow(a, { select: true, extra: extra(a) });
  const rows = g.alerts.slice(0, ROWS_PER_GROUP).map(row).join('');
  const more =
    g.alerts.length > ROWS_PER_GROUP
      ? `<li><details class="more-rows"><summary>${esc(t('alerts.showAll', { n: g.alerts.length }))}</summary><ul class="alert-list">${g.alerts.slice(ROWS_PER_GROUP).map(row).join('')}</ul></details></li>`
      : '';
  const folded =
    g.folded.length > 0
      ? `<li><details class="folded" data-testid="folded-windows"><summary>${esc(t('alerts.moreWindows', { n: g.folded.length }))}</summary><ul class="alert-list">${g.folded.map(row).join('')}</ul></details></li>`
      : '';
  if (g.alerts.length === 1 && g.folded.length === 0) return `<ul class="alert-list single" data-testid="alert-group" data-group="${esc(g.key)}">${rows}</ul>`;
  return `<details class="alert-group sev-${esc(g.severity)}" data-testid="alert-group" data-group="${esc(g.key)}"${open ? ' open' : ''}>
      <summary class="group-head">${chip(g)}<span class="group-title" data-testid="group-title">${esc(groupTitle(g))}</span><span class="group-places muted">${esc(groupPlaces(g))}</span><span class="group-where muted">${where(g.alerts[0], false)}</span></summary>
      <div class="group-actions">${ackAll}</div>
      <ul class="alert-list">${rows}${more}${folded}</ul>
    </details>`;
}

/** Some alerts (a site's, on the drainage view) grouped as on the alerts page, unacknowledged first, closed. */
export function groupedAlerts(alerts: readonly AlertT[]): string {
  if (alerts.length === 0) return `<p class="muted">${esc(t('alerts.none'))}</p>`;
  return groupAlerts(alerts)
    .map((g) => groupBlock(g, false))
    .join('');
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
      const end = canOperate()
        ? `<button type="button" class="ghost" data-view-action="silence-end" data-silence-id="${esc(s.id)}" data-testid="silence-end">${esc(t('silence.end'))}</button>`
        : '';
      return `<tr data-testid="silence-row" data-silence-id="${esc(s.id)}"><td>${esc(matchText(s))}</td><td>${esc(s.reason)}</td><td>${esc(fmtTime(s.endsAt, currentLang(), zone) + pending)}</td><td>${esc(s.createdBy)}</td><td>${end}</td></tr>`;
    })
    .join('');
  return `<div class="table-wrap"><table class="table" data-testid="silences-table"><thead><tr>${head}<th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function filterBar(f: AlertFilter): string {
  const opt = (value: string, label: string, selected: boolean) => `<option value="${esc(value)}"${selected ? ' selected' : ''}>${esc(label)}</option>`;
  const sites = model.sites.map((s) => opt(s.id, named(s), f.site === s.id)).join('');
  return `<form class="filters" data-testid="alert-filters" role="search">
      <label>${esc(t('alerts.filterSite'))}<select name="site" data-testid="filter-site">${opt('', t('alerts.any'), !f.site)}${sites}</select></label>
      <label>${esc(t('alerts.filterSeverity'))}<select name="severity" data-testid="filter-severity">${opt('', t('alerts.any'), !f.severity)}${SEVERITIES.map((s) => opt(s, tr('severity', s), f.severity === s)).join('')}</select></label>
      <label>${esc(t('alerts.filterState'))}<select name="state" data-testid="filter-state">${opt('', t('alerts.any'), !f.state)}${opt('open', t('alerts.stateOpen'), f.state === 'open')}${opt('acknowledged', t('alerts.stateAcked'), f.state === 'acknowledged')}</select></label>
      <label>${esc(t('alerts.filterText'))}<input type="search" name="text" value="${esc(f.text ?? '')}" data-testid="filter-text"></label>
    </form>`;
}

function activePanel(f: AlertFilter, extra: Extra, focus?: string): string {
  const all = [...model.activeAlerts.values()];
  if (all.length === 0) return `<p class="muted" data-testid="no-alerts">${esc(t('alerts.none'))}</p>`;
  const shown = filterAlerts(all, f, textOf);
  const groups = groupAlerts(shown);
  const open = groups.filter((g) => g.unacked > 0);
  const acked = groups.filter((g) => g.unacked === 0);
  const bulk = canOperate()
    ? `<button type="button" class="ack" data-action="ack-selected" data-testid="ack-selected" disabled>${esc(t('alerts.ackSelected', { n: 0 }))}</button>`
    : '';
  return `<div class="panel-bar"><span class="muted" data-testid="alerts-count">${esc(t('alerts.shown', { n: shown.length, total: all.length }))}</span>${bulk}</div>
    ${open.length > 0 ? `<h3 class="group-section">${esc(t('alerts.open'))}</h3>${open.map((g, i) => groupBlock(g, i < 3 || holds(g, focus), extra)).join('')}` : ''}
    ${acked.length > 0 ? `<h3 class="group-section">${esc(t('alerts.acknowledged'))}</h3>${acked.map((g) => groupBlock(g, holds(g, focus), extra)).join('')}` : ''}`;
}

/** Whether a group holds the alert a notification's link points at (its group opens). */
function holds(g: AlertGroup, id: string | undefined): boolean {
  return id !== undefined && [...g.alerts, ...g.folded].some((a) => a.id === id);
}

function historyTable(history: AlertT[]): string {
  if (history.length === 0) return `<p class="muted">${esc(t('alerts.noHistory'))}</p>`;
  const lang = currentLang();
  const rows = history
    .slice(0, 200)
    .map((a) => {
      const zone = findSite(a.site)?.timeZone;
      return `<tr class="sev-${esc(a.severity)}" data-testid="history-row"><td>${esc(fmtTime(a.ts, lang, zone))}</td><td>${chip(a)}</td><td>${esc(tr('alertState', a.state))}${a.by ? ` · ${esc(a.by)}` : ''}</td><td>${esc(textOf(a))}</td><td>${where(a)}</td><td class="muted">${esc(fmtTime(raisedAt(a), lang, zone))}</td></tr>`;
    })
    .join('');
  const head = ['alerts.colTime', 'alerts.colSeverity', 'alerts.colState', 'alerts.colMessage', 'alerts.colWhere', 'alerts.colRaised']
    .map((k) => `<th>${esc(t(k as 'alerts.colTime'))}</th>`)
    .join('');
  return `<div class="table-wrap"><table class="table" data-testid="alert-history"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The active alerts, or the last 24 hours of alert events, as CSV (times in each site's zone). */
function csvLink(state: 'active' | 'all'): string {
  const q = new URLSearchParams({ state, format: 'csv', lang: currentLang(), ...(state === 'all' ? { from: '-24h' } : {}) });
  return `<a class="button small" download data-testid="download-alerts-${state}" href="/api/alerts?${esc(q.toString())}">⤓ ${esc(t('export.csv'))}</a>`;
}

const eventKey = (a: Pick<AlertT, 'id' | 'state' | 'ts'>) => `${a.id}|${a.state}|${a.ts}`;

/** Keeps the checked boxes (and their count on the bulk button) across a repaint. */
function selection(root: HTMLElement): Set<string> {
  return new Set(Array.from(root.querySelectorAll<HTMLInputElement>('input[data-select]:checked')).map((i) => i.dataset.select!));
}

function countSelected(root: HTMLElement): void {
  const n = selection(root).size;
  const button = root.querySelector<HTMLButtonElement>('[data-action="ack-selected"]');
  if (!button) return;
  button.textContent = t('alerts.ackSelected', { n });
  button.toggleAttribute('disabled', n === 0);
}

export function alertsView(focus?: string): View {
  let history: AlertT[] = [];
  let seen = new Set<string>();
  let deliveries = new Map<string, DeliveryT[]>();
  let formFor: string | undefined;
  let root: HTMLElement | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  const filter: AlertFilter = {};
  const slot = (name: string) => root?.querySelector<HTMLElement>(`[data-slot="${name}"]`);
  const extra: Extra = (a) =>
    (canOperate() && !silenceOf(a) && formFor !== a.id
      ? `<button type="button" class="ghost" data-view-action="silence-open" data-alert-id="${esc(a.id)}" data-testid="silence-button">${esc(t('alerts.silence'))}</button>`
      : '') +
    deliveriesLine(deliveries.get(a.id)) +
    (formFor === a.id ? silenceForm(a) : '');
  const paintActive = () => {
    const s = slot('active');
    if (!s || !root) return;
    const checked = selection(root);
    const opened = new Set(
      Array.from(s.querySelectorAll<HTMLDetailsElement>('details[data-group]'))
        .filter((d) => d.open)
        .map((d) => d.dataset.group!),
    );
    s.innerHTML = activePanel(filter, extra, focus);
    for (const box of Array.from(s.querySelectorAll<HTMLInputElement>('input[data-select]'))) box.checked = checked.has(box.dataset.select!);
    for (const d of Array.from(s.querySelectorAll<HTMLDetailsElement>('details[data-group]'))) if (opened.has(d.dataset.group!)) d.open = true;
    if (focus) s.querySelector(`[data-alert-id="${CSS.escape(focus)}"]`)?.classList.add('focused');
    countSelected(root);
  };
  const paintHistory = () => {
    const s = slot('history');
    if (s) s.innerHTML = historyTable(history);
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
    const match =
      scope === 'device'
        ? { site: alert.site, zone: alert.zone, device: alert.device }
        : scope === 'zone'
          ? { site: alert.site, zone: alert.zone }
          : scope === 'site'
            ? { site: alert.site }
            : { rule: alert.rule };
    const { silence } = await post<{ silence: SilenceT }>('/api/silences', {
      match,
      forMinutes: Number(data.get('minutes')),
      reason: String(data.get('reason') ?? ''),
    });
    formFor = undefined;
    toast(t('silence.created', { until: fmtTime(silence.endsAt, currentLang(), zoneOf(alert.site)) }), 'info');
    await loadSilences();
    await loadDeliveries();
  }

  const clickListener = (e: MouseEvent) => void onClick(e).catch((err: unknown) => toast(errorText(err)));
  const submitListener = (e: SubmitEvent) => void onSubmit(e).catch((err: unknown) => toast(errorText(err)));

  return {
    sites: () => model.sites.map((s) => s.id),
    async render(el) {
      root = el;
      el.innerHTML = `<h1 class="view-title">${esc(t('nav.alerts'))}</h1>
        <section class="card" data-testid="alerts-panel"><div class="card-head"><h2>${esc(t('alerts.active'))}</h2>${csvLink('active')}</div>${filterBar(filter)}<div data-slot="active"></div></section>
        <section class="card" data-testid="silences-panel"><h2>${esc(t('silence.title'))}</h2><p class="muted small">${esc(t('silence.help'))}</p><div data-slot="silences"></div></section>
        <section class="card"><div class="card-head"><h2>${esc(t('alerts.history'))}</h2>${csvLink('all')}</div><div data-slot="history"><p class="muted">${esc(t('common.loading'))}</p></div></section>`;
      const form = el.querySelector<HTMLFormElement>('form.filters')!;
      form.addEventListener('input', () => {
        const data = new FormData(form);
        filter.site = String(data.get('site') ?? '') || undefined;
        filter.severity = (String(data.get('severity') ?? '') || undefined) as AlertFilter['severity'];
        filter.state = (String(data.get('state') ?? '') || undefined) as AlertFilter['state'];
        filter.text = String(data.get('text') ?? '') || undefined;
        paintActive();
      });
      form.addEventListener('submit', (e) => e.preventDefault());
      el.addEventListener('change', (e) => {
        if ((e.target as HTMLElement).matches('input[data-select]')) countSelected(el);
      });
      el.addEventListener('click', clickListener);
      el.addEventListener('submit', submitListener);
      paintActive();
      paintSilences();
      if (focus)
        slot('active')
          ?.querySelector(`[data-alert-id="${CSS.escape(focus)}"]`)
          ?.scrollIntoView({ block: 'center' });
      await Promise.all([loadSilences().catch(() => {}), loadDeliveries().catch(() => {})]);
      // Deliveries change on their own (grouping, retries): look again now and then while the page is open.
      poll = setInterval(() => void loadDeliveries().catch(() => {}), 10_000);
      history = (await get<{ alerts: AlertT[] }>('/api/alerts?state=all&from=-24h&limit=500')).alerts;
      seen = new Set(history.map(eventKey));
      paintHistory();
    },
    onChange(change) {
      if (change.kind === 'silences') {
        paintSilences();
        if (!formFor) paintActive();
        return;
      }
      if (change.kind !== 'alert' && change.kind !== 'alerts' && change.kind !== 'sites' && change.kind !== 'rules') return;
      if (!formFor) paintActive();
      if (change.kind === 'alert' && !seen.has(eventKey(change.alert))) {
        seen.add(eventKey(change.alert));
        history.unshift(change.alert);
        setTimeout(() => void loadDeliveries().catch(() => {}), 1500);
      }
      if (change.kind !== 'alerts') paintHistory();
    },
    dispose() {
      root?.removeEventListener('click', clickListener);
      root?.removeEventListener('submit', submitListener);
      if (poll) clearInterval(poll);
    },
  };
}
