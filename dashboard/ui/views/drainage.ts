import type { DrainageResponseT } from '../../schemas.js';
import { get } from '../api.js';
import { esc, fmt } from '../dom.js';
import { t } from '../i18n.js';
import { deviceEntry, findSite, model, setDrainage } from '../state.js';
import { pipeGauge, pipesOf } from './cards.js';
import { titleWithSeverity } from './site.js';
import type { View } from './view.js';

/**
 * Drainage of a site: every pipe's fill as a graded gauge (live), every rain gauge's 1 h / 24 h rainfall and
 * warning, and the pipes at long-term high water in dry weather. Rainfall windows are refreshed every minute.
 */
const REFRESH_MS = 60_000;

function gaugesTable(d: DrainageResponseT): string {
  if (d.gauges.length === 0) return '';
  const rows = d.gauges
    .map((g) => {
      const id = esc(g.device);
      const level = g.level ? `<span class="level level-${esc(g.level)}" data-testid="rain-${id}-level">${esc(levelLabel(g.level))}</span>` : `<span class="muted" data-testid="rain-${id}-level">${esc(t('drain.levelNone'))}</span>`;
      return `<tr><td><a href="#/history/${id}/rain_mm">${esc(deviceEntry(g.device)?.zone.name ?? g.zone)}</a></td><td class="num" data-testid="rain-${id}-1h">${fmt(g.rain1hMm)}</td><td class="num" data-testid="rain-${id}-24h">${fmt(g.rain24hMm)}</td><td>${level}</td></tr>`;
    })
    .join('');
  return `<section class="card"><h2>${esc(t('drain.gauges'))}</h2><table class="table"><thead><tr><th></th><th class="num">${esc(t('drain.rain1h'))} (mm)</th><th class="num">${esc(t('drain.rain24h'))} (mm)</th><th>${esc(t('drain.level'))}</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function levelLabel(level: string): string {
  return ['blue', 'yellow', 'orange', 'red'].includes(level) ? t(`level.${level}` as 'level.blue') : level;
}

function highWaterList(d: DrainageResponseT): string {
  const help = t('drain.highWaterHelp', { fill: d.highWaterRule.fillPct, hours: d.highWaterRule.hours, rain: d.highWaterRule.dryRainMm });
  const items =
    d.highWater.length === 0
      ? `<li class="muted">${esc(t('drain.noHighWater'))}</li>`
      : d.highWater.map((p) => `<li data-testid="high-water-${esc(p.device)}"><a href="#/history/${esc(p.device)}/fill?range=7d">${esc(deviceEntry(p.device)?.zone.name ?? p.zone)}</a> — min ${fmt(p.minFill, 0)}% / ${p.hours} h</li>`).join('');
  return `<section class="card"><h2>${esc(t('drain.highWater'))}</h2><p class="muted small">${esc(help)}</p><ul class="plain" data-testid="high-water-list">${items}</ul></section>`;
}

export function drainageView(siteId: string): View {
  let timer: ReturnType<typeof setInterval> | undefined;
  const load = async () => setDrainage(await get<DrainageResponseT>(`/api/sites/${encodeURIComponent(siteId)}/drainage`));
  const paintTables = (root: HTMLElement) => {
    const d = model.drainage.get(siteId);
    const slot = root.querySelector<HTMLElement>('[data-slot="tables"]');
    if (d && slot) slot.innerHTML = gaugesTable(d) + highWaterList(d);
  };
  return {
    sites: () => [siteId],
    async render(root) {
      const site = findSite(siteId);
      if (!site) {
        root.innerHTML = `<p class="muted">${esc(t('common.notFound'))}</p>`;
        return;
      }
      root.innerHTML = `${titleWithSeverity(site, esc(t('kind.drain')))}
        <section class="card"><h2>${esc(t('drain.pipes'))}</h2><div class="gauges big" data-testid="drainage-pipes">${pipesOf(site).map((p) => pipeGauge(p.device, p.zone.name ?? p.zone.id)).join('')}</div>
          <p class="legend">${['blue', 'yellow', 'orange', 'red'].map((l) => `<span class="level level-${l}">${esc(levelLabel(l))}</span>`).join(' ')}</p></section>
        <div class="zone-grid" data-slot="tables"><p class="muted">${esc(t('common.loading'))}</p></div>`;
      await load();
      timer = setInterval(() => void load().catch(() => {}), REFRESH_MS);
    },
    onChange(change, root) {
      if (change.kind === 'drainage' || (change.kind === 'readings' && change.devices.some((d) => model.drainage.get(siteId)?.gauges.some((g) => g.device === d)))) paintTables(root);
      if (change.kind === 'sites') void this.render(root);
    },
    dispose() {
      clearInterval(timer);
    },
  };
}
