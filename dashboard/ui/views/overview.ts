import type { AlertT, SiteViewT, ZoneViewT } from '../../schemas.js';
import { esc } from '../dom.js';
import { alertText, named, t, tr } from '../i18n.js';
import { findSite, model } from '../state.js';
import { actuator, heads, pipeGauge, pipesOf, reading, sensorMetrics, thi, zoneTitle } from './cards.js';
import { gaugesTable, hasDrainage, highWaterList, levelLabel } from './drain-parts.js';
import { DRAINAGE_REFRESH_MS, loadDrainage, reloadDrainageSoon, touchesDrainage } from './drainage.js';
import type { View } from './view.js';

/**
 * The big screen: the worst active alerts on top, then every site as a card coloured by its worst active alert,
 * with its sheds (climate, THI band, fans / sprays / shutters), fields (soil) and drainage (pipe fill gauges,
 * rain gauges' 1 h / 24 h totals and warning, pipes at long-term high water) readable at a glance.
 */
const KEY_METRICS: Record<string, string[]> = { shed: ['temperature', 'humidity', 'nh3'], field: ['soil_moisture', 'soil_temperature'] };
const STRIP_MAX = 4;
const RANK = { critical: 0, warning: 1, info: 2 } as const;

function keyMetrics(all: string[], kind: string): string[] {
  const key = all.filter((m) => KEY_METRICS[kind]?.includes(m));
  return key.length > 0 ? key : all.slice(0, 3);
}

function zoneRow(site: SiteViewT, zone: ZoneViewT): string {
  const sensors = zone.devices.filter((d) => d.role === 'sensor');
  const values = sensors.flatMap((d) => keyMetrics(sensorMetrics(d, zone.kind), zone.kind).map((m) => reading(d.id, m, { link: false }))).join('');
  const actuators = zone.devices.filter((d) => d.role === 'actuator').map((d) => actuator(d, false)).join('');
  return `<div class="zone-row zone-${esc(zone.kind)}" data-testid="overview-zone-${esc(zone.id)}">
      <div class="zone-line"><a class="zone-name" href="#/site/${esc(site.id)}/zone/${esc(zone.id)}">${zoneTitle(zone)}</a>${zone.kind === 'shed' ? thi(site.id, zone.id) : ''}</div>
      <div class="metrics">${heads(site.id, zone)}${values}</div>
      ${actuators ? `<div class="actuators compact">${actuators}</div>` : ''}
    </div>`;
}

function siteCard(site: SiteViewT): string {
  const devices = site.zones.flatMap((z) => z.devices);
  const online = devices.filter((d) => d.status === 'online').length;
  const section = (kind: 'shed' | 'field') => {
    const zones = site.zones.filter((z) => z.kind === kind);
    return zones.length === 0 ? '' : `<h3>${esc(t(`kind.${kind}`))}</h3>${zones.map((z) => zoneRow(site, z)).join('')}`;
  };
  const pipes = pipesOf(site);
  const drains = !hasDrainage(site)
    ? ''
    : `<h3><a href="#/site/${esc(site.id)}/drainage" data-testid="open-drainage-${esc(site.id)}">${esc(t('kind.drain'))} →</a></h3>
       ${pipes.length > 0 ? `<div class="gauges compact">${pipes.map((p) => pipeGauge(p.device, named(p.zone))).join('')}</div>` : ''}
       <div class="drain-tables" data-slot="drain-${esc(site.id)}"></div>`;
  return `<article class="card site-card" data-bind="severity" data-site="${esc(site.id)}" data-testid="site-${esc(site.id)}">
      <header class="site-head"><a href="#/site/${esc(site.id)}">${esc(named(site))}</a><span class="site-status" data-part="count" data-testid="site-${esc(site.id)}-status"></span></header>
      <p class="muted small">${esc(t('site.devicesOnline', { n: online, total: devices.length }))}</p>
      ${section('shed')}${section('field')}${drains}
    </article>`;
}

function where(a: AlertT): string {
  const site = findSite(a.site);
  const zone = site?.zones.find((z) => z.id === a.zone);
  return `${named(site, a.site)} / ${named(zone, a.zone)}`;
}

/** The few worst active alerts, so a glance at the wall tells what needs doing. */
function alertStrip(): string {
  const active = [...model.activeAlerts.values()].sort((a, b) => RANK[a.severity] - RANK[b.severity] || b.ts - a.ts);
  if (active.length === 0) return `<p class="strip-ok" data-testid="overview-no-alerts">${esc(t('alerts.none'))}</p>`;
  const pills = active
    .slice(0, STRIP_MAX)
    .map(
      (a) => `<a class="strip-alert sev-${esc(a.severity)}" data-state="${esc(a.state)}" href="#/site/${esc(a.site)}/zone/${esc(a.zone)}" data-testid="overview-alert">
        <span class="sev-chip">${esc(a.level ? levelLabel(a.level) : tr('severity', a.severity))}</span>
        <span class="strip-msg">${esc(alertText(a))}</span><span class="strip-where">${esc(where(a))}</span></a>`,
    )
    .join('');
  const more = active.length > STRIP_MAX ? `<a class="strip-more" href="#/alerts">${esc(t('alerts.more', { n: active.length - STRIP_MAX }))}</a>` : '';
  return pills + more;
}

export function overviewView(): View {
  let timer: ReturnType<typeof setInterval> | undefined;
  const drainSites = () => model.sites.filter(hasDrainage).map((s) => s.id);
  const paintDrain = (root: HTMLElement, siteId: string) => {
    const slot = root.querySelector<HTMLElement>(`[data-slot="drain-${CSS.escape(siteId)}"]`);
    const d = model.drainage.get(siteId);
    if (slot && d) slot.innerHTML = gaugesTable(d) + highWaterList(d);
  };
  const paintAlerts = (root: HTMLElement) => {
    const slot = root.querySelector<HTMLElement>('[data-slot="alerts"]');
    if (slot) slot.innerHTML = alertStrip();
  };
  const loadAll = () => Promise.all(drainSites().map((id) => loadDrainage(id).catch(() => {})));
  return {
    sites: () => model.sites.map((s) => s.id),
    render(root) {
      root.innerHTML = `<section class="alert-strip" data-slot="alerts" data-testid="overview-alerts" aria-live="polite"></section>
        <div class="site-grid" data-testid="overview">${model.sites.map(siteCard).join('')}</div>`;
      paintAlerts(root);
      for (const id of drainSites()) paintDrain(root, id);
      void loadAll();
      clearInterval(timer);
      timer = setInterval(() => void loadAll(), DRAINAGE_REFRESH_MS);
    },
    onChange(change, root) {
      if (change.kind === 'sites') return void this.render(root);
      if (change.kind === 'alert' || change.kind === 'alerts') paintAlerts(root);
      if (change.kind === 'alert') reloadDrainageSoon(change.alert.site);
      if (change.kind === 'drainage') for (const id of drainSites()) paintDrain(root, id);
      if (change.kind === 'readings') for (const id of drainSites()) if (touchesDrainage(id, change.devices)) paintDrain(root, id);
    },
    dispose() {
      clearInterval(timer);
    },
  };
}
