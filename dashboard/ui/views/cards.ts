import { GAS_MOLAR_MASS } from '../../../core/gas-units.js';
import { METRICS } from '../../../core/metrics-catalog.js';
import type { DeviceViewT, SiteViewT, ZoneViewT } from '../../schemas.js';
import { esc } from '../dom.js';
import { t, tr, named } from '../i18n.js';
import { canOperate } from '../state.js';

/** HTML for the building blocks every view shares: metric tiles, zone cards, actuator controls, pipe gauges. */
const METRIC_ORDER = ['temperature', 'humidity', 'nh3', 'h2s', 'co2', 'light', 'soil_moisture', 'soil_temperature', 'fill', 'water_level', 'flow', 'rain_mm'];
const DEFAULT_METRICS: Record<string, string[]> = { shed: ['temperature', 'humidity', 'nh3'], field: ['soil_moisture', 'soil_temperature'], drain: ['fill'] };

export function zoneTitle(zone: ZoneViewT): string {
  return esc(named(zone));
}

export function sensorMetrics(device: DeviceViewT, kind: string): string[] {
  const known = new Set([...(device.metrics ?? []), ...Object.keys(device.latest).filter((m) => m !== 'thi')]);
  const list = known.size > 0 ? [...known] : DEFAULT_METRICS[kind] ?? [];
  return list.sort((a, b) => METRIC_ORDER.indexOf(a) - METRIC_ORDER.indexOf(b));
}

export function reading(device: string, metric: string, options: { label?: boolean; link?: boolean } = {}): string {
  const unit = METRICS[metric]?.unit ?? '';
  // Gases also in mg/m³, the unit of the Chinese standards (core/gas-units.ts).
  const mg =
    GAS_MOLAR_MASS[metric] === undefined
      ? ''
      : ` <span class="alt" title="${esc(t('unit.mgm3Help'))}"><span class="value" data-bind="mgm3" data-device="${esc(device)}" data-metric="${esc(metric)}" data-testid="reading-${esc(device)}-${esc(metric)}-mgm3">—</span><span class="unit">mg/m³</span></span>`;
  const value = `<span class="value" data-bind="reading" data-device="${esc(device)}" data-metric="${esc(metric)}" data-testid="reading-${esc(device)}-${esc(metric)}">—</span><span class="unit">${esc(unit)}</span>${mg}`;
  const label = options.label === false ? '' : `<span class="label">${esc(tr('metric', metric))}</span>`;
  const tag = options.link === false ? 'span' : 'a';
  const href = options.link === false ? '' : ` href="#/history/${esc(device)}/${esc(metric)}"`;
  return `<${tag} class="metric"${href}>${label}${value}</${tag}>`;
}

/** A shed's live head count next to its expected count (animals whose last gate read put them in it). */
export function heads(site: string, zone: ZoneViewT): string {
  // Counted only where a gate reader counts: a shed without one has an expected head count but no live one.
  if (zone.headCount === undefined || !zone.devices.some((d) => d.role === 'reader' && (d.at ?? 'gate') === 'gate')) return '';
  return `<span class="metric heads" data-bind="heads" data-site="${esc(site)}" data-zone="${esc(zone.id)}" data-testid="heads-${esc(zone.id)}"><span class="label">${esc(t('heads.label'))}</span><span class="value" data-part="value">—</span><span class="unit" data-part="out" hidden></span></span>`;
}

export function presence(device: string): string {
  return `<span class="presence" data-bind="presence" data-device="${esc(device)}" data-testid="presence-${esc(device)}"></span>`;
}

export function thi(site: string, zone: string): string {
  return `<span class="metric thi"><span class="label">${esc(t('metric.thi'))}</span><span class="value thi-band" data-bind="thi" data-site="${esc(site)}" data-zone="${esc(zone)}" data-testid="thi-${esc(zone)}">—</span></span>`;
}

/** An actuator's confirmed state and mode; with `controls` (and an operator logged in) its buttons too. */
export function actuator(device: DeviceViewT, controls: boolean): string {
  const id = esc(device.id);
  const canSet = device.type === 'fan' || device.type === 'shutter' || device.type === 'valve';
  const buttons =
    controls && canOperate()
      ? `<div class="act-controls" data-testid="actuator-${id}-controls">
          <button type="button" data-action="command" data-cmd="on" data-device="${id}" data-testid="actuator-${id}-on">${esc(t('action.on'))}</button>
          <button type="button" data-action="command" data-cmd="off" data-device="${id}" data-testid="actuator-${id}-off">${esc(t('action.off'))}</button>
          ${canSet ? `<input type="number" min="0" max="100" step="5" value="50" inputmode="numeric" aria-label="%" data-testid="actuator-${id}-value"><button type="button" data-action="command" data-cmd="set" data-device="${id}" data-testid="actuator-${id}-set">${esc(t('action.set'))}</button>` : ''}
          <button type="button" class="mode-toggle" data-action="mode" data-part="mode-toggle" data-device="${id}" data-testid="actuator-${id}-mode-toggle"></button>
        </div>`
      : '';
  return `<div class="actuator" data-bind="actuator" data-device="${id}" data-testid="actuator-${id}">
      <span class="act-name">${esc(device.name ? named(device) : tr('actuator', device.type ?? ''))}</span>
      <span class="act-state" data-part="state" data-testid="actuator-${id}-state"></span>
      <span class="act-mode" data-part="mode" data-testid="actuator-${id}-mode"></span>
      <span class="act-pending" data-part="pending" data-testid="actuator-${id}-pending" hidden>${esc(t('pending'))}</span>
      <span class="act-hold" data-part="hold" data-testid="actuator-${id}-hold" hidden></span>
      <span class="act-why" data-part="why" data-testid="actuator-${id}-why" hidden></span>
      ${buttons}
    </div>`;
}

export function sensorsBlock(site: SiteViewT, zone: ZoneViewT, options: { link?: boolean } = {}): string {
  return zone.devices
    .filter((d) => d.role === 'sensor')
    .map((d) => `<div class="sensor"><div class="sensor-head"><span class="device-id">${esc(named(d))}</span>${presence(d.id)}</div><div class="metrics">${sensorMetrics(d, zone.kind).map((m) => reading(d.id, m, options)).join('')}</div></div>`)
    .join('');
}

export function zoneCard(site: SiteViewT, zone: ZoneViewT, options: { controls: boolean }): string {
  const actuators = zone.devices.filter((d) => d.role === 'actuator');
  return `<section class="card zone zone-${esc(zone.kind)}" data-testid="zone-${esc(zone.id)}">
      <header class="card-head"><a href="#/site/${esc(site.id)}/zone/${esc(zone.id)}">${zoneTitle(zone)}</a>${zone.kind === 'shed' ? thi(site.id, zone.id) : ''}</header>
      ${heads(site.id, zone)}
      ${sensorsBlock(site, zone)}
      ${actuators.length > 0 ? `<div class="actuators">${actuators.map((a) => actuator(a, options.controls)).join('')}</div>` : ''}
    </section>`;
}

export function pipeGauge(device: DeviceViewT, label: string): string {
  const id = esc(device.id);
  return `<a class="gauge" href="#/history/${id}/fill" data-bind="fill" data-device="${id}" data-testid="pipe-${id}">
      <span class="gauge-tube"><span class="gauge-bar" data-part="bar"></span></span>
      <span class="gauge-label" data-part="label" data-testid="pipe-${id}-fill">—</span>
      <span class="gauge-name">${esc(label)}</span>
    </a>`;
}

/** Every fill-measuring sensor of a site's drain zones, labelled by zone. */
export function pipesOf(site: SiteViewT): { zone: ZoneViewT; device: DeviceViewT }[] {
  return site.zones
    .filter((z) => z.kind === 'drain')
    .flatMap((zone) => zone.devices.filter((d) => d.role === 'sensor' && (d.metrics?.includes('fill') || d.latest.fill !== undefined)).map((device) => ({ zone, device })));
}
