import type { AnimalResponseT, AnimalViewT } from '../../schemas.js';
import { get } from '../api.js';
import { esc, fmtTime } from '../dom.js';
import { currentLang, named, t, tr } from '../i18n.js';
import { findSite, model } from '../state.js';
import type { View } from './view.js';

/**
 * Animals: search the ear-tag register by tag, group and zone (also unknown tags and missing animals), and one
 * animal's timeline: where it is now, its moves (gate reads that changed where it is) and every read.
 */
const PAGE = 200;

function zoneName(site: string | undefined, zone: string | undefined): string {
  if (!zone) return '—';
  const z = site ? findSite(site)?.zones.find((x) => x.id === zone) : undefined;
  return z ? named(z) : zone;
}

/**
 * A time at the animal's site, in that site's zone and saying which ("09:12:05 UTC+8"): a staff member in Shanghai
 * reading the page on a laptop set to UTC sees the shed's clock. A tag never placed at a site (an unknown tag) is
 * read at a site all the same; without one, the first site's zone (a farm's sites normally share one).
 */
function siteTime(ts: number | undefined, site: string | undefined): string {
  const zone = (site ? findSite(site) : undefined)?.timeZone ?? model.sites[0]?.timeZone;
  return fmtTime(ts, currentLang(), zone);
}

/** "in Shed 1", "out of Shed 1 (pasture)", "not yet read at a gate". */
export function whereText(a: Pick<AnimalViewT, 'location' | 'site' | 'zone'>): string {
  if (a.location === 'in') return t('animals.in', { zone: zoneName(a.site, a.zone) });
  if (a.location === 'out') return t('animals.out', { zone: zoneName(a.site, a.zone) });
  return t('animals.unplaced');
}

function row(a: AnimalViewT): string {
  return `<tr data-testid="animal-row" data-tag="${esc(a.tag)}" class="${a.missing ? 'missing' : ''}">
      <td><a href="#/animals/${esc(a.tag)}" data-testid="animal-link">${esc(a.tag)}</a>${a.known ? '' : ` <span class="chip" data-testid="unknown-chip">${esc(t('animals.unknown'))}</span>`}</td>
      <td>${esc(a.group ?? '—')}</td>
      <td>${esc(a.sex ? t(`animals.sex.${a.sex}`) : '—')}</td>
      <td>${esc(a.born ?? '—')}</td>
      <td data-testid="animal-where">${esc(whereText(a))}</td>
      <td>${a.lastSeen ? `${esc(siteTime(a.lastSeen, a.site))} · ${esc(a.lastSeenBy ?? '')}` : esc(t('animals.never'))}</td>
      <td>${a.missing ? `<span class="chip sev-warning" data-testid="missing-chip">${esc(t('animals.missing'))}</span>` : ''}</td>
    </tr>`;
}

function zoneOptions(selected: string): string {
  const sheds = model.sites.flatMap((s) => s.zones.filter((z) => z.kind === 'shed' || z.headCount !== undefined).map((z) => ({ site: s, zone: z })));
  return `<option value="">${esc(t('animals.allZones'))}</option>${sheds.map(({ site, zone }) => `<option value="${esc(zone.id)}"${zone.id === selected ? ' selected' : ''}>${esc(named(site))} / ${esc(named(zone))}</option>`).join('')}`;
}

export function animalsView(initial: URLSearchParams = new URLSearchParams()): View {
  let seq = 0;
  async function search(root: HTMLElement): Promise<void> {
    const form = root.querySelector<HTMLFormElement>('form[data-testid="animal-search"]')!;
    const params = new URLSearchParams();
    for (const name of ['q', 'group', 'zone', 'show']) {
      const v = (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null)?.value.trim();
      if (v) params.set(name, v);
    }
    params.set('limit', String(PAGE));
    const mine = ++seq;
    const slot = root.querySelector<HTMLElement>('[data-slot="animals"]')!;
    slot.innerHTML = `<p class="muted">${esc(t('common.loading'))}</p>`;
    const res = await get<{ total: number; animals: AnimalViewT[] }>(`/api/animals?${params}`);
    if (mine !== seq) return;
    const head = ['animals.colTag', 'animals.colGroup', 'animals.colSex', 'animals.colBorn', 'animals.colWhere', 'animals.colLastSeen', 'animals.colStatus']
      .map((k) => `<th>${esc(t(k as 'animals.colTag'))}</th>`)
      .join('');
    slot.innerHTML =
      res.total === 0
        ? `<p class="muted" data-testid="animals-none">${esc(t('animals.none'))}</p>`
        : `<p class="muted" data-testid="animals-total">${esc(t('animals.total', { n: res.total, shown: res.animals.length }))}</p>
           <div class="table-wrap"><table class="table" data-testid="animals-table"><thead><tr>${head}</tr></thead><tbody>${res.animals.map(row).join('')}</tbody></table></div>`;
  }
  return {
    sites: () => [],
    async render(root) {
      const value = (k: string) => esc(initial.get(k) ?? '');
      const show = initial.get('show') ?? 'all';
      root.innerHTML = `<h1 class="view-title">${esc(t('nav.animals'))}</h1>
        <form class="card search" data-testid="animal-search">
          <label>${esc(t('animals.search'))} <input name="q" type="search" value="${value('q')}" placeholder="982000123456789" data-testid="animal-q" autocomplete="off"></label>
          <label>${esc(t('animals.colGroup'))} <input name="group" value="${value('group')}" data-testid="animal-group" size="10"></label>
          <label>${esc(t('animals.zone'))} <select name="zone" data-testid="animal-zone">${zoneOptions(initial.get('zone') ?? '')}</select></label>
          <label>${esc(t('animals.show'))} <select name="show" data-testid="animal-show">${['all', 'registered', 'unknown', 'missing'].map((s) => `<option value="${s}"${s === show ? ' selected' : ''}>${esc(tr('animals.show', s))}</option>`).join('')}</select></label>
          <button type="submit" data-testid="animal-search-button">${esc(t('animals.find'))}</button>
        </form>
        <section class="card" data-slot="animals"></section>`;
      const form = root.querySelector<HTMLFormElement>('form')!;
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        void search(root);
      });
      form.addEventListener('change', () => void search(root));
      await search(root);
    },
  };
}

export function animalView(tag: string): View {
  return {
    sites: () => [],
    async render(root) {
      root.innerHTML = `<p class="muted">${esc(t('common.loading'))}</p>`;
      let res: AnimalResponseT;
      try {
        res = await get<AnimalResponseT>(`/api/animals/${encodeURIComponent(tag)}`);
      } catch {
        root.innerHTML = `<p class="muted" data-testid="animal-not-found">${esc(t('animals.notFound', { tag }))}</p><a href="#/animals">${esc(t('common.back'))}</a>`;
        return;
      }
      const a = res.animal;
      const facts = [
        [t('animals.colGroup'), a.group ?? '—'],
        [t('animals.colSex'), a.sex ? t(`animals.sex.${a.sex}`) : '—'],
        [t('animals.colBorn'), a.born ?? '—'],
        [t('animals.home'), zoneName(a.site, a.home)],
        [t('animals.colWhere'), whereText(a) + (a.since ? ` · ${siteTime(a.since, a.site)}` : '')],
        [t('animals.colLastSeen'), a.lastSeen ? `${siteTime(a.lastSeen, a.site)} · ${a.lastSeenBy ?? ''}` : t('animals.never')],
      ];
      const moves =
        res.moves.length === 0
          ? `<p class="muted">${esc(t('animals.noMoves'))}</p>`
          : `<ol class="timeline" data-testid="animal-moves">${res.moves.map((m) => `<li data-direction="${m.direction}"><span class="muted">${esc(siteTime(m.ts, m.site))}</span> ${esc(m.direction === 'in' ? t('animals.movedIn', { zone: zoneName(m.site, m.zone) }) : t('animals.movedOut', { zone: zoneName(m.site, m.zone) }))} <span class="muted">(${esc(m.device)})</span></li>`).join('')}</ol>`;
      const reads =
        res.reads.length === 0
          ? `<p class="muted">${esc(t('animals.noReads'))}</p>`
          : `<div class="table-wrap"><table class="table" data-testid="animal-reads"><thead><tr><th>${esc(t('alerts.colTime'))}</th><th>${esc(t('animals.reader'))}</th><th>${esc(t('animals.zone'))}</th><th>${esc(t('animals.direction'))}</th></tr></thead><tbody>${res.reads
              .map(
                (r) =>
                  `<tr><td>${esc(siteTime(r.ts, r.site))}</td><td>${esc(r.device)}</td><td>${esc(zoneName(r.site, r.zone))}</td><td>${esc(r.direction ? t(`animals.dir.${r.direction}`) : '—')}</td></tr>`,
              )
              .join('')}</tbody></table></div>`;
      root.innerHTML = `<h1 class="view-title"><a href="#/animals">${esc(t('nav.animals'))}</a> / <span data-testid="animal-tag">${esc(a.tag)}</span>${a.known ? '' : ` <span class="chip">${esc(t('animals.unknown'))}</span>`}${a.missing ? ` <span class="chip sev-warning">${esc(t('animals.missing'))}</span>` : ''}</h1>
        <div class="zone-layout">
          <section class="card" data-testid="animal-facts"><dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></section>
          <section class="card"><h2>${esc(t('animals.moves'))}</h2>${moves}</section>
        </div>
        <section class="card"><h2>${esc(t('animals.reads'))}</h2>${reads}</section>`;
    },
  };
}
