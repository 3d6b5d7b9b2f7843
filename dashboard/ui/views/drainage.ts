import type { DrainageResponseT } from '../../schemas.js';
import { get } from '../api.js';
import { esc } from '../dom.js';
import { t, named } from '../i18n.js';
import { findSite, model, setDrainage } from '../state.js';
import { pipeGauge, pipesOf } from './cards.js';
import { gaugesTable, highWaterList, levelLegend } from './drain-parts.js';
import { groupedAlerts } from './alerts.js';
import { networkDiagram } from './network-view.js';
import { isNetworkZone } from '../network.js';
import { gradedByFill } from '../pipe-grade.js';
import type { SiteViewT } from '../../schemas.js';
import { titleWithSeverity } from './site.js';
import type { View } from './view.js';

/**
 * Drainage of a site: every pipe's fill as a graded gauge (live), every rain gauge's 1 h / 24 h rainfall and
 * warning, and the pipes at long-term high water in dry weather. Rainfall windows are refreshed every minute.
 */
export const DRAINAGE_REFRESH_MS = 60_000;

export function loadDrainage(siteId: string): Promise<void> {
  return get<DrainageResponseT>(`/api/sites/${encodeURIComponent(siteId)}/drainage`).then(setDrainage);
}

const reloads = new Map<string, ReturnType<typeof setTimeout>>();

/** A rain or fill warning just changed: reload that site's drainage tables shortly (bursts of alerts load once). */
export function reloadDrainageSoon(siteId: string, delayMs = 500): void {
  if (!model.drainage.has(siteId) || reloads.has(siteId)) return;
  reloads.set(
    siteId,
    setTimeout(() => {
      reloads.delete(siteId);
      void loadDrainage(siteId).catch(() => {});
    }, delayMs),
  );
}

/** True when a batch of readings changes what the drainage tables of a site show (rainfall). */
export function touchesDrainage(siteId: string, devices: string[]): boolean {
  const d = model.drainage.get(siteId);
  return Boolean(d && devices.some((id) => d.gauges.some((g) => g.device === id)));
}

/** Fill thresholds for the legend where a rule grades fill; else the grades alone (the rules judge levels). */
function fillLegend(site: SiteViewT): { name: string; above: number }[] | undefined {
  const zone = site.zones.find((z) => z.kind === 'drain' && gradedByFill(site.id, z));
  return zone?.fillLevels;
}

export function drainageView(siteId: string): View {
  let timer: ReturnType<typeof setInterval> | undefined;
  const paintTables = (root: HTMLElement) => {
    const d = model.drainage.get(siteId);
    const slot = root.querySelector<HTMLElement>('[data-slot="tables"]');
    if (d && slot) slot.innerHTML = `<section class="card">${gaugesTable(d)}</section><section class="card">${highWaterList(d)}</section>`;
  };
  const paintAlerts = (root: HTMLElement) => {
    const slot = root.querySelector<HTMLElement>('[data-slot="site-alerts"]');
    if (!slot) return;
    slot.innerHTML = groupedAlerts([...model.activeAlerts.values()].filter((a) => a.site === siteId));
  };
  return {
    sites: () => [siteId],
    async render(root) {
      const site = findSite(siteId);
      if (!site) {
        root.innerHTML = `<p class="muted">${esc(t('common.notFound'))}</p>`;
        return;
      }
      // Pipes the farm file places in a network (attributes.type, upstream) are drawn in order; others as gauges.
      const loose = pipesOf(site).filter((p) => !isNetworkZone(p.zone));
      const gauges =
        loose.length > 0 ? `<div class="gauges big" data-testid="drainage-pipes">${loose.map((p) => pipeGauge(p.device, named(p.zone))).join('')}</div>` : '';
      root.innerHTML = `${titleWithSeverity(site, esc(t('kind.drain')))}
        <section class="card"><h2>${esc(t('drain.pipes'))}</h2>${networkDiagram(site)}${gauges}
          ${levelLegend(fillLegend(site))}</section>
        <section class="card" data-testid="drainage-alerts"><h2>${esc(t('alerts.active'))}</h2><div data-slot="site-alerts"></div></section>
        <div class="zone-grid" data-slot="tables"><p class="muted">${esc(t('common.loading'))}</p></div>`;
      paintAlerts(root);
      await loadDrainage(siteId);
      clearInterval(timer);
      timer = setInterval(() => void loadDrainage(siteId).catch(() => {}), DRAINAGE_REFRESH_MS);
    },
    onChange(change, root) {
      if (change.kind === 'alert' || change.kind === 'alerts') paintAlerts(root);
      if (change.kind === 'alert' && change.alert.site === siteId) reloadDrainageSoon(siteId);
      if (change.kind === 'drainage' || (change.kind === 'readings' && touchesDrainage(siteId, change.devices))) paintTables(root);
      if (change.kind === 'sites') void this.render(root);
    },
    dispose() {
      clearInterval(timer);
    },
  };
}
