import type { SiteViewT, ZoneViewT } from '../../schemas.js';
import { esc } from '../dom.js';
import { t, named } from '../i18n.js';
import { isNetworkZone } from '../network.js';
import { model } from '../state.js';
import { alertStrip } from './alert-strip.js';
import { actuator, heads, pipeGauge, pipesOf, reading, sensorMetrics, thi, zonePresence, zoneTitle } from './cards.js';
import { gaugesTable, hasDrainage, highWaterList } from './drain-parts.js';
import { DRAINAGE_REFRESH_MS, loadDrainage, reloadDrainageSoon, touchesDrainage } from './drainage.js';
import { networkDiagram } from './network-view.js';
import type { View } from './view.js';

/**
 * The overview: the alerts that need doing on top (grouped, unacknowledged), then every site as a card coloured by
 * its worst active alert, with its sheds (climate, THI band, fans / sprays / shutters), fields (soil) and drainage
 * (pipe fill, rain gauges' 1 h / 24 h totals and warning, pipes at long-term high water).
 * On a wall (big-screen mode, `/?big`, a display token) the same data is laid out for reading across a room: the
 * type scales with the screen, key numbers are large, zones are tiles, the drainage network is drawn in order with
 * pumps, levels and flows, and the top bar has the clock and the time of the newest data.
 */
const KEY_METRICS: Record<string, string[]> = { shed: ['temperature', 'humidity', 'nh3'], field: ['soil_moisture', 'soil_temperature'] };

function keyMetrics(all: string[], kind: string): string[] {
  const key = all.filter((m) => KEY_METRICS[kind]?.includes(m));
  return key.length > 0 ? key : all.slice(0, 3);
}

export const isBig = (): boolean => document.documentElement.classList.contains('big');
const isPhone = (): boolean => window.matchMedia('(max-width: 700px)').matches;

/** Places in the alert strip: two rows of three on a wall, one row on a desk, three stacked on a phone. */
function stripSlots(): number {
  return isBig() ? 6 : isPhone() ? 3 : 4;
}

/** A zone's key values (one per sensor metric that matters for its kind) and its actuators, as a row and a wall tile show them. */
function zoneCells(zone: ZoneViewT): { values: string; actuators: string } {
  const sensors = zone.devices.filter((d) => d.role === 'sensor');
  const values = sensors.flatMap((d) => keyMetrics(sensorMetrics(d, zone.kind), zone.kind).map((m) => reading(d.id, m, { link: false }))).join('');
  const actuators = zone.devices
    .filter((d) => d.role === 'actuator')
    .map((d) => actuator(d, false, named(zone)))
    .join('');
  return { values, actuators };
}

function zoneRow(site: SiteViewT, zone: ZoneViewT): string {
  const { values, actuators } = zoneCells(zone);
  return `<div class="zone-row zone-${esc(zone.kind)}" data-testid="overview-zone-${esc(zone.id)}">
      <div class="zone-line"><a class="zone-name" href="#/site/${esc(site.id)}/zone/${esc(zone.id)}">${zoneTitle(zone)}</a>${zonePresence(site.id, zone.id)}${zone.kind === 'shed' ? thi(site.id, zone.id) : ''}</div>
      <div class="metrics">${heads(site.id, zone)}${values}</div>
      ${actuators ? `<div class="actuators compact">${actuators}</div>` : ''}
    </div>`;
}

function siteHead(site: SiteViewT, wall = false): string {
  const online = (tag: string) =>
    `<${tag} class="site-online small" data-bind="site-online" data-site="${esc(site.id)}" data-testid="site-${esc(site.id)}-online"></${tag}>`;
  return `<header class="site-head"><a href="#/site/${esc(site.id)}">${esc(named(site))}</a>${wall ? online('span') : ''}<span class="site-status" data-part="count" data-testid="site-${esc(site.id)}-status"></span></header>
    ${wall ? '' : online('p')}`;
}

function drainBlock(site: SiteViewT, wall: boolean): string {
  if (!hasDrainage(site)) return '';
  const gauges = (pipes: ReturnType<typeof pipesOf>) =>
    pipes.length > 0 ? `<div class="gauges compact">${pipes.map((p) => pipeGauge(p.device, named(p.zone))).join('')}</div>` : '';
  // A desk or phone shows compact fill gauges; the wall draws the network in order with levels, flows and the pump.
  const tables = `<div class="drain-tables" data-slot="drain-${esc(site.id)}"></div>`;
  const head = `<h3><a href="#/site/${esc(site.id)}/drainage" data-testid="open-drainage-${esc(site.id)}">${esc(t('kind.drain'))} →</a></h3>`;
  if (wall && site.zones.some(isNetworkZone)) return `${head}${networkDiagram(site, tables)}${gauges(pipesOf(site).filter((p) => !isNetworkZone(p.zone)))}`;
  return `${head}${gauges(pipesOf(site))}${tables}`;
}

function siteCard(site: SiteViewT): string {
  const section = (kind: 'shed' | 'field') => {
    const zones = site.zones.filter((z) => z.kind === kind);
    return zones.length === 0 ? '' : `<h3>${esc(t(`kind.${kind}`))}</h3>${zones.map((z) => zoneRow(site, z)).join('')}`;
  };
  return `<article class="card site-card" data-bind="severity" data-site="${esc(site.id)}" data-testid="site-${esc(site.id)}">
      ${siteHead(site)}${section('shed')}${section('field')}${drainBlock(site, false)}
    </article>`;
}

/** A zone as a tile on the wall: its name and state, large key values, its actuators. */
function wallTile(site: SiteViewT, zone: ZoneViewT): string {
  const { values, actuators } = zoneCells(zone);
  return `<article class="wall-zone zone-${esc(zone.kind)}" data-testid="overview-zone-${esc(zone.id)}">
      <header class="zone-line"><a class="zone-name" href="#/site/${esc(site.id)}/zone/${esc(zone.id)}">${zoneTitle(zone)}</a>${zonePresence(site.id, zone.id)}</header>
      ${zone.kind === 'shed' ? `<div class="wall-thi">${thi(site.id, zone.id)}</div>` : ''}
      <div class="metrics wall-metrics">${values}${heads(site.id, zone)}</div>
      ${actuators ? `<div class="actuators compact">${actuators}</div>` : ''}
    </article>`;
}

function wallSite(site: SiteViewT): string {
  const tiles = site.zones.filter((z) => z.kind === 'shed' || z.kind === 'field');
  const drains = hasDrainage(site);
  // Sites with sheds and fields share the first row, each as wide as its tiles; drainage takes a row of its own.
  const span = drains ? 'grid-column: 1 / -1' : `grid-column: span ${Math.max(1, tiles.length)}`;
  return `<article class="card site-card wall-site${drains ? ' wall-drain' : ''}" style="${span}" data-bind="severity" data-site="${esc(site.id)}" data-testid="site-${esc(site.id)}">
      ${siteHead(site, true)}
      ${tiles.length > 0 ? `<div class="wall-zones" data-count="${tiles.length}">${tiles.map((z) => wallTile(site, z)).join('')}</div>` : ''}
      ${drains ? drainBlock(site, true) : ''}
    </article>`;
}

/** The wall's first row has a column per shed or field tile (at least one per site). */
function wallColumns(): number {
  const tiles = model.sites.filter((s) => !hasDrainage(s)).map((s) => Math.max(1, s.zones.filter((z) => z.kind === 'shed' || z.kind === 'field').length));
  return Math.max(
    1,
    tiles.reduce((a, b) => a + b, 0),
  );
}

export function overviewView(): View {
  let timer: ReturnType<typeof setInterval> | undefined;
  let wall = false;
  const drainSites = () => model.sites.filter(hasDrainage).map((s) => s.id);
  const paintDrain = (root: HTMLElement, siteId: string) => {
    const slot = root.querySelector<HTMLElement>(`[data-slot="drain-${CSS.escape(siteId)}"]`);
    const d = model.drainage.get(siteId);
    // The wall keeps to what a room reads: the rain gauges (high water in dry weather is a desk job).
    if (slot && d) slot.innerHTML = gaugesTable(d) + (wall ? '' : highWaterList(d));
  };
  const paintAlerts = (root: HTMLElement) => {
    const slot = root.querySelector<HTMLElement>('[data-slot="alerts"]');
    if (slot) slot.innerHTML = alertStrip(stripSlots());
  };
  const loadAll = () => Promise.all(drainSites().map((id) => loadDrainage(id).catch(() => {})));
  return {
    sites: () => model.sites.map((s) => s.id),
    render(root) {
      wall = isBig();
      const strip = `<section class="alert-strip" data-slot="alerts" data-testid="overview-alerts" aria-live="polite" aria-label="${esc(t('alerts.active'))}"></section>`;
      root.innerHTML = wall
        ? `<div class="wall" data-testid="wall">${strip}<div class="site-grid wall-sites" data-testid="overview" style="grid-template-columns: repeat(${wallColumns()}, minmax(0, 1fr))">${model.sites.map(wallSite).join('')}</div></div>`
        : `${strip}<div class="site-grid" data-testid="overview">${model.sites.map(siteCard).join('')}</div>`;
      paintAlerts(root);
      for (const id of drainSites()) paintDrain(root, id);
      void loadAll();
      clearInterval(timer);
      timer = setInterval(() => void loadAll(), DRAINAGE_REFRESH_MS);
    },
    onChange(change, root) {
      if (change.kind === 'sites') return void this.render(root);
      if (change.kind === 'alert' || change.kind === 'alerts' || change.kind === 'rules') paintAlerts(root);
      if (change.kind === 'alert') reloadDrainageSoon(change.alert.site);
      if (change.kind === 'drainage') for (const id of drainSites()) paintDrain(root, id);
      if (change.kind === 'readings') for (const id of drainSites()) if (touchesDrainage(id, change.devices)) paintDrain(root, id);
    },
    dispose() {
      clearInterval(timer);
    },
  };
}
