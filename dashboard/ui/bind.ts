import { thiBandOf, thiBands } from '../../core/animal-groups.js';
import { ppmToMgM3 } from '../../core/gas-units.js';
import { sheepThi } from '../../core/metrics-catalog.js';
import { fillGrade } from '../site-view.js';
import { $$, fmt, fmtTime } from './dom.js';
import { currentLang, t, tr } from './i18n.js';
import { holderLines } from './holders.js';
import { deviceEntry, findSite, model } from './state.js';

/**
 * Views render their structure once; live values are filled into elements marked with data-bind, so an update
 * never rebuilds the DOM (inputs keep focus, buttons keep their listeners). `patch` runs at most once per frame.
 *   data-bind="reading"  data-device data-metric   the latest value
 *   data-bind="mgm3"     data-device data-metric   a gas's latest value in mg/m³ (20 °C, 101.325 kPa)
 *   data-bind="thi"      data-site data-zone        THI of a shed from its temperature and humidity, with its animal group's band
 *   data-bind="presence" data-device                online / offline
 *   data-bind="actuator" data-device                confirmed state, mode, pending command, hold and why
 *   data-bind="fill"     data-device                pipe fill gauge and its grade colour
 *   data-bind="severity" data-site                  worst active alert of a site
 *   data-bind="heads"    data-site data-zone        live head count next to the expected (attributes.headCount)
 */
export function shedThi(siteId: string, zoneId: string): number | undefined {
  const zone = findSite(siteId)?.zones.find((z) => z.id === zoneId);
  if (!zone) return undefined;
  for (const d of zone.devices) {
    if (d.latest.thi) return d.latest.thi.value;
    const temp = d.latest.temperature?.value;
    const hum = d.latest.humidity?.value;
    if (temp !== undefined && hum !== undefined) return sheepThi(temp, hum);
  }
  return undefined;
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent === text) return;
  el.textContent = text;
  el.classList.remove('flash');
  void el.offsetWidth; // restart the flash animation
  el.classList.add('flash');
}

const binders: Record<string, (el: HTMLElement) => void> = {
  reading(el) {
    const entry = deviceEntry(el.dataset.device!);
    const v = entry?.device.latest[el.dataset.metric!];
    setText(el, fmt(v?.value));
    el.title = v ? fmtTime(v.ts, currentLang(), entry?.site.timeZone) : '';
  },
  mgm3(el) {
    const v = deviceEntry(el.dataset.device!)?.device.latest[el.dataset.metric!];
    setText(el, fmt(v === undefined ? undefined : ppmToMgM3(el.dataset.metric!, v.value)));
  },
  thi(el) {
    const thi = shedThi(el.dataset.site!, el.dataset.zone!);
    const zone = findSite(el.dataset.site!)?.zones.find((z) => z.id === el.dataset.zone);
    const band = thi === undefined ? undefined : thiBandOf(thi, thiBands(zone?.attributes));
    setText(el, thi === undefined ? '—' : `${fmt(thi)} · ${t(`thi.${band}` as 'thi.none')}`);
    el.dataset.band = band ?? '';
  },
  presence(el) {
    const entry = deviceEntry(el.dataset.device!);
    const d = entry?.device;
    const status = d?.status ?? 'unknown';
    el.dataset.status = status;
    el.textContent = tr('status', status);
    el.title = d?.lastSeen ? t('common.lastSeen', { t: fmtTime(d.lastSeen, currentLang(), entry?.site.timeZone) }) : '';
  },
  actuator(el) {
    const info = deviceEntry(el.dataset.device!)?.device.actuator;
    if (!info) return;
    const state = $$('[data-part="state"]', el)[0];
    if (state) {
      const text = info.state ? t(`state.${info.state}`) + (info.value !== undefined && info.state === 'on' && info.value < 100 ? ` ${fmt(info.value, 0)}%` : '') : t('state.unknown');
      setText(state, text);
      state.dataset.state = info.state ?? 'unknown';
    }
    for (const mode of $$('[data-part="mode"]', el)) {
      mode.textContent = t(`mode.${info.mode}`);
      mode.dataset.mode = info.mode;
    }
    for (const pending of $$('[data-part="pending"]', el)) pending.hidden = !info.pending;
    const lines = holderLines(info.holders, deviceEntry(el.dataset.device!)?.site);
    const held = lines.find((l) => l.kind === 'operator');
    for (const hold of $$('[data-part="hold"]', el)) {
      hold.hidden = !held;
      hold.textContent = held?.text ?? '';
      hold.dataset.decides = String(held?.decides ?? false);
    }
    const why = lines.filter((l) => l.kind !== 'operator');
    for (const part of $$('[data-part="why"]', el)) {
      part.hidden = why.length === 0;
      part.textContent = why.length > 0 ? `${t('why.label')}: ${why.map((l) => l.text).join(' · ')}` : '';
    }
    for (const toggle of $$('[data-part="mode-toggle"]', el)) {
      toggle.textContent = info.mode === 'auto' ? t('action.toManual') : t('action.toAuto');
      toggle.dataset.to = info.mode === 'auto' ? 'manual' : 'auto';
    }
    for (const button of $$('[data-action="command"]', el)) button.title = info.mode === 'auto' ? t('hint.autoMode') : '';
    el.dataset.mode = info.mode;
  },
  fill(el) {
    const entry = deviceEntry(el.dataset.device!);
    const fill = entry?.device.latest.fill?.value;
    const grade = fillGrade(fill, entry?.zone.fillLevels ?? []);
    el.dataset.grade = grade;
    const bar = $$('[data-part="bar"]', el)[0];
    if (bar) bar.style.height = `${Math.max(0, Math.min(100, fill ?? 0))}%`;
    const label = $$('[data-part="label"]', el)[0];
    if (label) setText(label, fill === undefined ? '—' : `${fmt(fill, 0)}%`);
    el.title = `${t('metric.fill')}: ${t(`level.${grade}` as 'level.blue')}`;
  },
  heads(el) {
    const zone = findSite(el.dataset.site!)?.zones.find((z) => z.id === el.dataset.zone);
    if (!zone) return;
    const n = zone.headCount ?? 0;
    const expected = typeof zone.attributes?.headCount === 'number' ? zone.attributes.headCount : undefined;
    const out = zone.animalsOut ?? 0;
    const value = $$('[data-part="value"]', el)[0];
    if (value) setText(value, expected === undefined ? String(n) : t('heads.value', { n, expected }));
    const outEl = $$('[data-part="out"]', el)[0];
    if (outEl) {
      outEl.textContent = out > 0 ? t('heads.out', { n: out }) : '';
      outEl.hidden = out === 0;
    }
    // Short of the expected with the flock home (fewer out than in) is what a shepherd looks for.
    el.dataset.state = expected === undefined || n === expected ? 'ok' : out > n ? 'out' : 'differs';
    el.title = t('heads.title', { n, expected: expected ?? '—', out });
  },
  severity(el) {
    const site = findSite(el.dataset.site!);
    el.dataset.severity = site?.worstSeverity ?? 'ok';
    const count = $$('[data-part="count"]', el)[0];
    if (count)
      count.textContent =
        site?.worstSeverity && site.activeAlerts > 0 ? t('site.worst', { severity: tr('severity', site.worstSeverity), n: site.activeAlerts }) : t('site.noAlerts');
  },
};

export function patchNow(root: ParentNode = document): void {
  for (const el of $$('[data-bind]', root)) binders[el.dataset.bind!]?.(el);
  const badge = document.querySelector<HTMLElement>('[data-testid="alert-badge"]');
  if (badge) {
    badge.textContent = model.activeAlerts.size > 0 ? String(model.activeAlerts.size) : '';
    badge.hidden = model.activeAlerts.size === 0;
  }
}

let scheduled = false;

export function patch(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    patchNow();
  });
}

