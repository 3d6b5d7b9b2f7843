import type { SiteViewT, ZoneViewT } from '../../schemas.js';
import { esc } from '../dom.js';
import { t } from '../i18n.js';
import { model } from '../state.js';
import { actuator, pipeGauge, pipesOf, reading, sensorMetrics, thi, zoneTitle } from './cards.js';
import type { View } from './view.js';

/** Every site as a card coloured by its worst active alert, with its sheds, fields and pipes at a glance. */
const KEY_METRICS: Record<string, string[]> = { shed: ['temperature', 'humidity', 'nh3'], field: ['soil_moisture', 'soil_temperature'] };

function keyMetrics(all: string[], kind: string): string[] {
  const key = all.filter((m) => KEY_METRICS[kind]?.includes(m));
  return key.length > 0 ? key : all.slice(0, 3);
}

function zoneRow(site: SiteViewT, zone: ZoneViewT): string {
  const sensors = zone.devices.filter((d) => d.role === 'sensor');
  const values = sensors.flatMap((d) => keyMetrics(sensorMetrics(d, zone.kind), zone.kind).map((m) => reading(d.id, m, { link: false }))).join('');
  const actuators = zone.devices.filter((d) => d.role === 'actuator').map((d) => actuator(d, false)).join('');
  return `<div class="zone-row zone-${esc(zone.kind)}">
      <a class="zone-name" href="#/site/${esc(site.id)}/zone/${esc(zone.id)}">${zoneTitle(zone)}</a>
      <div class="metrics">${values}${zone.kind === 'shed' ? thi(site.id, zone.id) : ''}</div>
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
  const drains =
    pipes.length === 0
      ? ''
      : `<h3><a href="#/site/${esc(site.id)}/drainage">${esc(t('kind.drain'))}</a></h3><div class="gauges compact">${pipes.map((p) => pipeGauge(p.device, p.zone.name ?? p.zone.id)).join('')}</div>`;
  return `<article class="card site-card" data-bind="severity" data-site="${esc(site.id)}" data-testid="site-${esc(site.id)}">
      <header class="card-head"><a href="#/site/${esc(site.id)}">${esc(site.name ?? site.id)}</a><span class="alert-count" data-part="count"></span></header>
      <p class="muted">${esc(t('site.devicesOnline', { n: online, total: devices.length }))}</p>
      ${section('shed')}${section('field')}${drains}
    </article>`;
}

export function overviewView(): View {
  return {
    sites: () => model.sites.map((s) => s.id),
    render(root) {
      root.innerHTML = `<h1 class="view-title">${esc(t('nav.overview'))}</h1><div class="site-grid" data-testid="overview">${model.sites.map(siteCard).join('')}</div>`;
    },
    onChange(change, root) {
      if (change.kind === 'sites') this.render(root);
    },
  };
}
