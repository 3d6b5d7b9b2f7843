import type { DisplayInfoT } from '../../access/schemas.js';
import { ApiFailure, del, get, post } from '../api.js';
import { esc, toast } from '../dom.js';
import { named, t } from '../i18n.js';
import { findSite, model } from '../state.js';
import { zoneOf } from '../zoned-time.js';
import { checkedValues, onceBox, siteChecks, stateCell, timeCell, wireCopy } from './tokens.js';
import type { View } from './view.js';

/** Wall displays (admin): a read-only, long-lived token per screen; its link is opened once on the screen. */
export function displaysView(): View {
  let displays: DisplayInfoT[] = [];
  const zone = () => zoneOf(model.sites[0]);
  const table = () =>
    displays.length === 0
      ? `<p class="muted">${esc(t('displays.none'))}</p>`
      : `<div class="table-wrap"><table class="table" data-testid="displays-table"><thead><tr><th>${esc(t('displays.name'))}</th><th>${esc(t('users.sites'))}</th><th>${esc(t('tokens.state'))}</th><th>${esc(t('tokens.created'))}</th><th>${esc(t('tokens.expires'))}</th><th>${esc(t('tokens.lastUsed'))}</th><th></th></tr></thead><tbody>${displays
          .map(
            (
              d,
            ) => `<tr data-testid="display-row" data-display="${esc(d.id)}"><td>${esc(d.name)}</td><td>${esc(d.sites ? d.sites.map((s) => named(findSite(s), s)).join(', ') : t('sites.all'))}</td><td>${stateCell(d.state)}</td>
              <td>${timeCell(d.createdAt, zone(), '')} <span class="muted">${esc(t('tokens.createdBy', { by: d.createdBy }))}</span></td><td>${timeCell(d.expiresAt, zone(), t('tokens.untilRevoked'))}</td>
              <td>${timeCell(d.lastUsedAt, zone(), t('tokens.never'))}</td><td>${d.state === 'active' ? `<button type="button" data-revoke="${esc(d.id)}" data-testid="revoke-display">${esc(t('tokens.revoke'))}</button>` : ''}</td></tr>`,
          )
          .join('')}</tbody></table></div><p class="muted small">${esc(t('share.timesIn', { tz: zone() }))}</p>`;

  async function load(root: HTMLElement): Promise<void> {
    displays = (await get<{ displays: DisplayInfoT[] }>('/api/displays')).displays;
    const slot = root.querySelector<HTMLElement>('[data-slot="displays"]');
    if (slot) slot.innerHTML = table();
  }

  return {
    sites: () => [],
    async render(root) {
      root.innerHTML = `<h1 class="view-title">${esc(t('displays.title'))}</h1>
        <p class="muted">${esc(t('displays.help'))}</p>
        <section class="card"><h2>${esc(t('displays.create'))}</h2>
          <form class="form-grid" data-testid="display-form">
            <label>${esc(t('displays.name'))}<input name="name" required maxlength="64" data-testid="display-name"></label>
            <label>${esc(t('displays.days'))}<input name="days" type="number" min="1" max="3650" data-testid="display-days"></label>
            <div><span class="muted">${esc(t('displays.sites'))}</span>${siteChecks('display', model.sites)}</div>
            <div><button type="submit" data-testid="display-create">${esc(t('displays.submit'))}</button></div>
          </form>
          <div data-slot="once"></div>
        </section>
        <section class="card"><div data-slot="displays"><p class="muted">${esc(t('common.loading'))}</p></div></section>`;
      const form = root.querySelector<HTMLFormElement>('form')!;
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const sites = checkedValues(form, 'display-site');
        const days = Number(data.get('days') || 0);
        try {
          const created = await post<{ url: string }>('/api/displays', {
            name: String(data.get('name')),
            ...(sites.length ? { sites } : {}),
            ...(days > 0 ? { expiresInDays: days } : {}),
          });
          root.querySelector<HTMLElement>('[data-slot="once"]')!.innerHTML = onceBox(created.url);
          form.reset();
          await load(root);
        } catch (err) {
          toast(t('common.error', { msg: err instanceof ApiFailure ? err.message : String(err) }));
        }
      });
      wireCopy(root, (m) => toast(m, 'info'));
      root.addEventListener('click', async (event) => {
        const id = (event.target as HTMLElement).closest<HTMLElement>('[data-revoke]')?.dataset.revoke;
        if (!id || !confirm(t('displays.confirmRevoke'))) return;
        await del(`/api/displays/${encodeURIComponent(id)}`).catch((err: Error) => toast(t('common.error', { msg: err.message })));
        await load(root);
      });
      await load(root);
    },
  };
}
