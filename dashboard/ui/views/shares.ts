import { METRICS } from '../../../core/metrics-catalog.js';
import type { ShareInfoT } from '../../access/schemas.js';
import { ApiFailure, del, get, post } from '../api.js';
import { esc, toast } from '../dom.js';
import { named, t, tr } from '../i18n.js';
import { findSite, model } from '../state.js';
import { zoneOf } from '../zoned-time.js';
import { sensorMetrics } from './cards.js';
import { onceBox, stateCell, timeCell, wireCopy } from './tokens.js';
import type { View } from './view.js';

/**
 * Share links (operator): share one zone read-only for some days, e.g. with the renter of a plot; see when
 * each link was last used; revoke it.
 */
const zoneKey = (site: string, zone: string) => `${site}/${zone}`;

function zoneChoices(): { key: string; label: string; metrics: string[] }[] {
  return model.sites.flatMap((site) =>
    site.zones.map((zone) => ({
      key: zoneKey(site.id, zone.id),
      label: `${named(site)} / ${named(zone)}`,
      metrics: [...new Set(zone.devices.filter((d) => d.role === 'sensor').flatMap((d) => sensorMetrics(d, zone.kind)))].filter((m) => m in METRICS),
    })),
  );
}

export function sharesView(): View {
  let shares: ShareInfoT[] = [];
  const zoneLabel = (s: ShareInfoT) => {
    const site = findSite(s.site);
    return `${named(site, s.site)} / ${named(
      site?.zones.find((z) => z.id === s.zone),
      s.zone,
    )}`;
  };
  const table = () =>
    shares.length === 0
      ? `<p class="muted">${esc(t('shares.none'))}</p>`
      : `<div class="table-wrap"><table class="table" data-testid="shares-table"><thead><tr><th>${esc(t('shares.zone'))}</th><th>${esc(t('tokens.state'))}</th><th>${esc(t('tokens.created'))}</th><th>${esc(t('tokens.expires'))}</th><th>${esc(t('tokens.lastUsed'))}</th><th></th></tr></thead><tbody>${shares
          .map((s) => {
            const zone = zoneOf(findSite(s.site));
            return `<tr data-testid="share-row" data-share="${esc(s.id)}"><td>${esc(zoneLabel(s))}${s.metrics ? `<br><span class="muted">${esc(s.metrics.map((m) => tr('metric', m)).join(', '))}</span>` : ''}</td>
              <td>${stateCell(s.state)}</td><td>${timeCell(s.createdAt, zone, '')} <span class="muted">${esc(t('tokens.createdBy', { by: s.createdBy }))}</span></td>
              <td>${timeCell(s.expiresAt, zone, '')}</td><td data-testid="share-last-used">${timeCell(s.lastUsedAt, zone, t('tokens.never'))}</td>
              <td>${s.state === 'active' ? `<button type="button" data-revoke="${esc(s.id)}" data-testid="revoke-share">${esc(t('tokens.revoke'))}</button>` : ''}</td></tr>`;
          })
          .join(
            '',
          )}</tbody></table></div><p class="muted small">${esc(t('share.timesIn', { tz: [...new Set(shares.map((s) => zoneOf(findSite(s.site))))].join(', ') }))}</p>`;

  async function load(root: HTMLElement): Promise<void> {
    shares = (await get<{ shares: ShareInfoT[] }>('/api/shares')).shares;
    const slot = root.querySelector<HTMLElement>('[data-slot="shares"]');
    if (slot) slot.innerHTML = table();
  }

  return {
    sites: () => [],
    async render(root) {
      const zones = zoneChoices();
      root.innerHTML = `<h1 class="view-title">${esc(t('shares.title'))}</h1>
        <p class="muted">${esc(t('shares.help'))}</p>
        <section class="card"><h2>${esc(t('shares.create'))}</h2>
          <form class="form-grid" data-testid="share-form">
            <label>${esc(t('shares.zone'))}<select name="zone" data-testid="share-zone-select">${zones.map((z) => `<option value="${esc(z.key)}">${esc(z.label)}</option>`).join('')}</select></label>
            <label>${esc(t('shares.days'))}<input name="days" type="number" min="1" max="400" value="30" data-testid="share-days"></label>
            <div><span class="muted">${esc(t('shares.metrics'))}</span><div class="checks" data-slot="metrics"></div></div>
            <div><button type="submit" data-testid="share-create">${esc(t('shares.submit'))}</button></div>
          </form>
          <div data-slot="once"></div>
        </section>
        <section class="card"><div data-slot="shares"><p class="muted">${esc(t('common.loading'))}</p></div></section>`;
      const form = root.querySelector<HTMLFormElement>('form')!;
      const select = form.querySelector<HTMLSelectElement>('select')!;
      const paintMetrics = () => {
        const zone = zones.find((z) => z.key === select.value);
        form.querySelector<HTMLElement>('[data-slot="metrics"]')!.innerHTML = (zone?.metrics ?? [])
          .map((m) => `<label><input type="checkbox" name="metric" value="${esc(m)}"> ${esc(tr('metric', m))}</label>`)
          .join('');
      };
      select.addEventListener('change', paintMetrics);
      paintMetrics();
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const [site, zone] = select.value.split('/');
        const metrics = Array.from(form.querySelectorAll<HTMLInputElement>('input[name="metric"]:checked')).map((i) => i.value);
        try {
          const created = await post<{ url: string }>('/api/shares', {
            site,
            zone,
            expiresInDays: Number(form.querySelector<HTMLInputElement>('[name="days"]')!.value),
            ...(metrics.length ? { metrics } : {}),
          });
          root.querySelector<HTMLElement>('[data-slot="once"]')!.innerHTML = onceBox(created.url);
          await load(root);
        } catch (err) {
          toast(t('common.error', { msg: err instanceof ApiFailure ? err.message : String(err) }));
        }
      });
      wireCopy(root, (m) => toast(m, 'info'));
      root.addEventListener('click', async (event) => {
        const id = (event.target as HTMLElement).closest<HTMLElement>('[data-revoke]')?.dataset.revoke;
        if (!id || !confirm(t('shares.confirmRevoke'))) return;
        await del(`/api/shares/${encodeURIComponent(id)}`).catch((err: Error) => toast(t('common.error', { msg: err.message })));
        await load(root);
      });
      await load(root);
    },
  };
}
