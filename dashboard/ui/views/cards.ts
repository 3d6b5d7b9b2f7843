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
  const list = known.size > 0 ? [...known] : (DEFAULT_METRICS[kind] ?? []);
  return list.sort((a, b) => METRIC_ORDER.indexOf(a) - METRIC_ORDER.indexOf(b));
}

/** A metric's unit as the reader writes it ("% of pipe height" is "% 管高" in Chinese). */
export function unitOf(metric: string): string {
  return tr('unit', metric) === metric ? (METRICS[metric]?.unit ?? '') : tr('unit', metric);
}

/**
 * A metric's latest value. The binder (bind.ts) fills the value and, once it is older than twice its device's
 * report interval, greys it and adds its age.
 */
export function reading(device: string, metric: string, options: { label?: boolean; link?: boolean } = {}): string {
  // Gases also in mg/m³, the unit of the Chinese standards (core/gas-units.ts).
  const mg =
    GAS_MOLAR_MASS[metric] === undefined
      ? ''
      : ` <span class="alt" title="${esc(t('unit.mgm3Help'))}"><span class="value" data-bind="mgm3" data-device="${esc(device)}" data-metric="${esc(metric)}" data-testid="reading-${esc(device)}-${esc(metric)}-mgm3">—</span><span class="unit">mg/m³</span></span>`;
  const value = `<span class="value" data-part="value" data-testid="reading-${esc(device)}-${esc(metric)}">—</span><span class="unit">${esc(unitOf(metric))}</span><span class="age" data-part="age" data-testid="age-${esc(device)}-${esc(metric)}" hidden></span>${mg}`;
  const label = options.label === false ? '' : `<span class="label">${esc(tr('metric', metric))}</span>`;
  const tag = options.link === false ? 'span' : 'a';
  const href = options.link === false ? '' : ` href="#/history/${esc(device)}/${esc(metric)}"`;
  return `<${tag} class="metric" data-bind="reading" data-device="${esc(device)}" data-metric="${esc(metric)}"${href}>${label}${value}</${tag}>`;
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

/** A zone's devices online, or which are not (bind.ts `zone-presence`). */
export function zonePresence(site: string, zone: string): string {
  return `<span class="zone-presence" data-bind="zone-presence" data-site="${esc(site)}" data-zone="${esc(zone)}" data-testid="zone-presence-${esc(zone)}"></span>`;
}

/**
 * The THI of a shed with its band. Coloured only while the zone has an active heat-stress alert (so it agrees with
 * the site's "no active alerts"); otherwise the band is written out, uncoloured.
 */
export function thi(site: string, zone: string): string {
  return `<span class="metric thi"><span class="label">${esc(t('metric.thi'))}</span><span class="value thi-band" data-bind="thi" data-site="${esc(site)}" data-zone="${esc(zone)}" data-testid="thi-${esc(zone)}">—</span></span>`;
}

function actuatorName(device: DeviceViewT): string {
  return device.name ? named(device) : tr('actuator', device.type ?? '');
}

/**
 * An actuator's confirmed state, mode, presence and command feedback; with `controls` (and an operator logged in)
 * its controls: On and Off are toggles that say which is in force (aria-pressed) and open a confirmation that says
 * what will happen (a hold with its end in auto mode); Set takes a checked 0-100 %; the mode switch asks how long.
 */
export function actuator(device: DeviceViewT, controls: boolean, zoneName = ''): string {
  const id = esc(device.id);
  const canSet = device.type === 'fan' || device.type === 'shutter' || device.type === 'valve';
  const who = esc(zoneName ? `${zoneName} ${actuatorName(device)}` : actuatorName(device));
  const buttons =
    controls && canOperate()
      ? `<div class="act-controls" data-testid="actuator-${id}-controls" role="group" aria-label="${who}">
          <button type="button" class="toggle" data-action="ask" data-cmd="on" data-device="${id}" data-testid="actuator-${id}-on" aria-pressed="false" aria-label="${esc(t('cmd.aria', { action: t('action.on'), device: who }))}" title="${esc(t('cmd.on', { device: who }))}">${esc(t('action.on'))}</button>
          <button type="button" class="toggle" data-action="ask" data-cmd="off" data-device="${id}" data-testid="actuator-${id}-off" aria-pressed="false" aria-label="${esc(t('cmd.aria', { action: t('action.off'), device: who }))}" title="${esc(t('cmd.off', { device: who }))}">${esc(t('action.off'))}</button>
          ${
            canSet
              ? `<span class="set-group"><input type="number" min="0" max="100" step="1" value="50" inputmode="numeric" required aria-label="${esc(t('cmd.value', { device: who }))}" data-testid="actuator-${id}-value"><span class="unit">%</span><button type="button" data-action="ask" data-cmd="set" data-device="${id}" data-testid="actuator-${id}-set" aria-label="${esc(t('cmd.aria', { action: t('action.set'), device: who }))}" title="${esc(t('cmd.set', { device: who }))}">${esc(t('action.set'))}</button></span>`
              : ''
          }
          <button type="button" class="mode-toggle" data-action="ask-mode" data-part="mode-toggle" data-device="${id}" data-testid="actuator-${id}-mode-toggle"></button>
          <p class="field-error" data-part="input-error" data-testid="actuator-${id}-input-error" role="alert" hidden></p>
          <div class="cmd-panel" data-part="panel" data-testid="actuator-${id}-panel" hidden></div>
        </div>`
      : '';
  return `<div class="actuator" data-bind="actuator" data-device="${id}" data-testid="actuator-${id}" data-name="${who}">
      <span class="act-name">${esc(actuatorName(device))}</span>
      <span class="act-state" data-part="state" data-testid="actuator-${id}-state"></span>
      <span class="act-mode" data-part="mode" data-testid="actuator-${id}-mode"></span>
      <span class="presence" data-part="presence" data-testid="actuator-${id}-presence"></span>
      <span class="act-pending" data-part="pending" data-testid="actuator-${id}-pending" role="status" hidden></span>
      <span class="act-failed" data-part="failed" data-testid="actuator-${id}-failed" role="alert" hidden></span>
      <span class="act-hold" data-part="hold" data-testid="actuator-${id}-hold" hidden></span>
      <span class="act-why" data-part="why" data-testid="actuator-${id}-why" hidden></span>
      ${buttons}
    </div>`;
}

export function sensorsBlock(site: SiteViewT, zone: ZoneViewT, options: { link?: boolean } = {}): string {
  return zone.devices
    .filter((d) => d.role === 'sensor')
    .map(
      (d) =>
        `<div class="sensor"><div class="sensor-head"><span class="device-id">${esc(d.name ? named(d) : d.id)}</span>${presence(d.id)}</div><div class="metrics">${sensorMetrics(
          d,
          zone.kind,
        )
          .map((m) => reading(d.id, m, options))
          .join('')}</div></div>`,
    )
    .join('');
}

export function zoneCard(site: SiteViewT, zone: ZoneViewT, options: { controls: boolean }): string {
  const actuators = zone.devices.filter((d) => d.role === 'actuator');
  return `<section class="card zone zone-${esc(zone.kind)}" data-testid="zone-${esc(zone.id)}">
      <header class="card-head"><a href="#/site/${esc(site.id)}/zone/${esc(zone.id)}">${zoneTitle(zone)}</a>${zonePresence(site.id, zone.id)}${zone.kind === 'shed' ? thi(site.id, zone.id) : ''}</header>
      ${heads(site.id, zone)}
      ${sensorsBlock(site, zone)}
      ${actuators.length > 0 ? `<div class="actuators">${actuators.map((a) => actuator(a, options.controls, named(zone))).join('')}</div>` : ''}
    </section>`;
}

/**
 * A pipe's fill as a gauge: the bar in the grade's colour, the grade written out with its shape (colour is not the
 * only cue), the value greyed with its age when old, offline marked.
 */
export function pipeGauge(device: DeviceViewT, label: string): string {
  const id = esc(device.id);
  return `<a class="gauge" href="#/history/${id}/fill" data-bind="fill" data-device="${id}" data-testid="pipe-${id}">
      <span class="gauge-tube"><span class="gauge-bar" data-part="bar"></span></span>
      <span class="gauge-label" data-part="label" data-testid="pipe-${id}-fill">—</span>
      <span class="grade" data-part="grade" data-testid="pipe-${id}-grade"></span>
      <span class="gauge-name">${esc(label)}</span>
      <span class="age" data-part="age" hidden></span>
    </a>`;
}

/** Every fill-measuring sensor of a site's drain zones, labelled by zone. */
export function pipesOf(site: SiteViewT): { zone: ZoneViewT; device: DeviceViewT }[] {
  return site.zones
    .filter((z) => z.kind === 'drain')
    .flatMap((zone) =>
      zone.devices.filter((d) => d.role === 'sensor' && (d.metrics?.includes('fill') || d.latest.fill !== undefined)).map((device) => ({ zone, device })),
    );
}
