import { zoneLabel } from '../../../core/site-time.js';
import type { SiteViewT } from '../../schemas.js';
import { esc } from '../dom.js';
import { t, tr, named } from '../i18n.js';
import { findSite, model } from '../state.js';
import { alertRow } from './alerts.js';
import { pipeGauge, pipesOf, sensorMetrics, zoneCard, zoneTitle } from './cards.js';
import { miniChart } from './history.js';
import type { View } from './view.js';

/** One site: its sheds and fields as full cards with actuator controls, its pipes as gauges. */
function notFound(root: HTMLElement): void {
  root.innerHTML = `<p class="muted">${esc(t('common.notFound'))}</p><a href="#/">${esc(t('common.back'))}</a>`;
}

export function siteView(siteId: string): View {
  return {
    sites: () => [siteId],
    render(root) {
      const site = findSite(siteId);
      if (!site) return notFound(root);
      const section = (kind: 'shed' | 'field') => {
        const zones = site.zones.filter((z) => z.kind === kind);
        return zones.length === 0
          ? ''
          : `<h2>${esc(t(`kind.${kind}`))}</h2><div class="zone-grid">${zones.map((z) => zoneCard(site, z, { controls: true })).join('')}</div>`;
      };
      const pipes = pipesOf(site);
      const drains =
        pipes.length === 0
          ? ''
          : `<h2>${esc(t('kind.drain'))} <a class="small" href="#/site/${esc(site.id)}/drainage" data-testid="open-drainage">${esc(t('site.drainage'))} →</a></h2><div class="card gauges">${pipes.map((p) => pipeGauge(p.device, named(p.zone))).join('')}</div>`;
      root.innerHTML = `${titleWithSeverity(site)}${section('shed')}${section('field')}${drains}`;
    },
    onChange(change, root) {
      if (change.kind === 'sites') void this.render(root);
    },
  };
}

export function titleWithSeverity(site: SiteViewT, sub?: string): string {
  return `<h1 class="view-title" data-bind="severity" data-site="${esc(site.id)}"><a href="#/site/${esc(site.id)}">${esc(named(site))}</a>${sub ? ` / ${sub}` : ''} <span class="alert-count" data-part="count"></span></h1>${siteZoneNote(site)}`;
}

/** Which zone the times of a site are told in: "Times in Asia/Shanghai (UTC+8)". */
export function siteZoneNote(site: Pick<SiteViewT, 'timeZone'>): string {
  return `<p class="muted small" data-testid="site-zone">${esc(t('common.timesIn', { zone: `${site.timeZone} (${zoneLabel(site.timeZone, Date.now())})` }))}</p>`;
}

/** One zone (a shed, a field, a pipe): its card with controls, its active alerts (acknowledge here) and 24 h charts. */
export function zoneView(siteId: string, zoneId: string): View {
  const charts: { destroy(): void }[] = [];
  const paintAlerts = (root: HTMLElement) => {
    const slot = root.querySelector<HTMLElement>('[data-slot="zone-alerts"]');
    if (!slot) return;
    const alerts = [...model.activeAlerts.values()].filter((a) => a.site === siteId && a.zone === zoneId).sort((a, b) => b.ts - a.ts);
    slot.innerHTML =
      alerts.length === 0 ? `<p class="muted">${esc(t('alerts.none'))}</p>` : `<ul class="alert-list">${alerts.map((a) => alertRow(a)).join('')}</ul>`;
  };
  return {
    sites: () => [siteId],
    render(root) {
      this.dispose?.();
      const site = findSite(siteId);
      const zone = site?.zones.find((z) => z.id === zoneId);
      if (!site || !zone) return notFound(root);
      const chartMetrics = zone.devices
        .filter((d) => d.role === 'sensor')
        .flatMap((d) =>
          sensorMetrics(d, zone.kind)
            .slice(0, 3)
            .map((m) => ({ device: d.id, metric: m })),
        );
      root.innerHTML = `${titleWithSeverity(site, zoneTitle(zone))}
        <div class="zone-layout">
          ${zoneCard(site, zone, { controls: true })}
          <section class="card" data-testid="zone-alerts"><h2>${esc(t('alerts.active'))}</h2><div data-slot="zone-alerts"></div></section>
        </div>
        <div class="chart-grid">${chartMetrics.map((c, i) => `<section class="card"><h3><a href="#/history/${esc(c.device)}/${esc(c.metric)}">${esc(tr('metric', c.metric))} · ${esc(c.device)}</a></h3><div class="mini-chart" id="mini-${i}" data-testid="mini-chart-${esc(c.metric)}"></div></section>`).join('')}</div>`;
      paintAlerts(root);
      for (const [i, c] of chartMetrics.entries()) {
        const el = root.querySelector<HTMLElement>(`#mini-${i}`);
        if (el) charts.push(miniChart(el, c.device, c.metric));
      }
    },
    onChange(change, root) {
      if ((change.kind === 'alert' && change.alert.site === siteId && change.alert.zone === zoneId) || change.kind === 'alerts' || change.kind === 'sites')
        paintAlerts(root);
    },
    dispose() {
      for (const c of charts.splice(0)) c.destroy();
    },
  };
}
