import { AUDIT_ACTIONS } from '../../access/audit.js';
import type { AuditEntryT } from '../../access/schemas.js';
import { get } from '../api.js';
import { esc } from '../dom.js';
import { currentLang, named, t, tr } from '../i18n.js';
import { findSite, model } from '../state.js';
import { fmtZoned, zoneOf } from '../zoned-time.js';
import type { View } from './view.js';

/**
 * The audit log (admin): who did what, when, from where, and the outcome; filtered by user, action and period.
 * Times are in the zone of the entry's site (else of the first site), named on the page.
 */
const PERIODS = ['24h', '7d', '30d'] as const;

function detailValue(e: AuditEntryT, key: string, v: unknown): string {
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'boolean') return t(v ? 'audit.detail.yes' : 'audit.detail.no');
  if (typeof v === 'number' && /At$|until/.test(key)) return fmtZoned(v, zoneOf(findSite(e.site ?? '') ?? model.sites[0]), currentLang());
  return String(v);
}

function details(e: AuditEntryT): string {
  const parts = Object.entries(e.detail ?? {}).map(([k, v]) => `${tr('audit.detail', k)}: ${detailValue(e, k, v)}`);
  if (e.code) parts.unshift(e.code);
  return parts.join(' · ');
}

export function auditView(): View {
  const filters = { user: '', action: '', period: '7d' as (typeof PERIODS)[number] };
  const defaultZone = () => zoneOf(model.sites[0]);
  const row = (e: AuditEntryT) => {
    const zone = e.site ? zoneOf(findSite(e.site)) : defaultZone();
    return `<tr data-testid="audit-row" data-action="${esc(e.action)}" data-outcome="${esc(e.outcome)}">
      <td>${esc(fmtZoned(e.ts, zone, currentLang()))}${zone !== defaultZone() ? ` <span class="muted">(${esc(zone)})</span>` : ''}</td>
      <td>${esc(e.actor)}</td><td class="muted">${esc(e.address ?? '')}</td><td>${esc(tr('audit.action', e.action))}</td>
      <td>${esc(e.site ? named(findSite(e.site), e.site) : '')}</td><td>${esc(e.target ?? '')}</td>
      <td class="outcome-${esc(e.outcome)}">${esc(tr('audit.outcome', e.outcome))}${e.status ? ` <span class="muted">${e.status}</span>` : ''}</td><td class="small">${esc(details(e))}</td></tr>`;
  };

  async function load(root: HTMLElement): Promise<void> {
    const q = new URLSearchParams({ from: `-${filters.period}`, limit: '1000' });
    if (filters.user) q.set('user', filters.user);
    if (filters.action) q.set('action', filters.action);
    const { entries } = await get<{ entries: AuditEntryT[] }>(`/api/audit?${q}`);
    const head = ['audit.when', 'audit.who', 'audit.address', 'audit.action', 'audit.site', 'audit.target', 'audit.outcome', 'audit.details'] as const;
    const slot = root.querySelector<HTMLElement>('[data-slot="audit"]');
    if (!slot) return; // the reader went to another page while the log was loading
    slot.innerHTML =
      entries.length === 0
        ? `<p class="muted" data-testid="audit-empty">${esc(t('audit.none'))}</p>`
        : `<div class="table-wrap"><table class="table" data-testid="audit-table"><thead><tr>${head.map((k) => `<th>${esc(t(k))}</th>`).join('')}</tr></thead><tbody>${entries.map(row).join('')}</tbody></table></div>`;
  }

  return {
    sites: () => [],
    async render(root) {
      root.innerHTML = `<h1 class="view-title">${esc(t('audit.title'))}</h1>
        <form class="form-grid card" data-testid="audit-filters">
          <label>${esc(t('audit.filterUser'))}<input name="user" value="${esc(filters.user)}" data-testid="audit-user"></label>
          <label>${esc(t('audit.filterAction'))}<select name="action" data-testid="audit-action"><option value="">${esc(t('audit.any'))}</option>${AUDIT_ACTIONS.map((a) => `<option value="${a}"${a === filters.action ? ' selected' : ''}>${esc(tr('audit.action', a))}</option>`).join('')}</select></label>
          <label>${esc(t('audit.range'))}<select name="period">${PERIODS.map((p) => `<option value="${p}"${p === filters.period ? ' selected' : ''}>${p}</option>`).join('')}</select></label>
          <div><button type="submit" data-testid="audit-apply">${esc(t('audit.apply'))}</button></div>
        </form>
        <p class="muted small">${esc(t('audit.timesIn', { tz: defaultZone() }))}</p>
        <section class="card"><div data-slot="audit"><p class="muted">${esc(t('common.loading'))}</p></div></section>`;
      const form = root.querySelector<HTMLFormElement>('form')!;
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const data = new FormData(form);
        filters.user = String(data.get('user') ?? '').trim();
        filters.action = String(data.get('action') ?? '');
        filters.period = String(data.get('period')) as (typeof PERIODS)[number];
        void load(root);
      });
      await load(root);
    },
  };
}
