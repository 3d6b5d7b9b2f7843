import { thiBandOf, thiBands } from '../../core/animal-groups.js';
import { ppmToMgM3 } from '../../core/gas-units.js';
import { sheepThi } from '../../core/metrics-catalog.js';
import { pipeGrade } from './pipe-grade.js';
import { $$, fmt, fmtTime } from './dom.js';
import { fmtAge, freshness, liveness, type Liveness } from './freshness.js';
import { fmtDuration, levelName } from './alert-text.js';
import { currentLang, t, tr, type MessageKey } from './i18n.js';
import { holderLines } from './holders.js';
import { deviceEntry, findSite, model, reportEveryMs } from './state.js';
import type { DeviceViewT } from '../schemas.js';
import { levelFill } from './network.js';

/**
 * Views render their structure once; live values are filled into elements marked with data-bind, so an update
 * never rebuilds the DOM (inputs keep focus, buttons keep their listeners). `patch` runs at most once per frame,
 * and every few seconds anyway (ages grow without any event).
 *   data-bind="reading"  data-device data-metric   the latest value; greyed with its age once old
 *   data-bind="mgm3"     data-device data-metric   a gas's latest value in mg/m³ (20 °C, 101.325 kPa)
 *   data-bind="thi"      data-site data-zone        THI of a shed with its band, coloured while a heat alert is active
 *   data-bind="presence" data-device                online / silent for … / offline for …
 *   data-bind="zone-presence" data-site data-zone   how many of a zone's devices are offline
 *   data-bind="site-online" data-site               "n of m devices online"
 *   data-bind="actuator" data-device                confirmed state, mode, presence, command feedback, hold and why
 *   data-bind="fill"     data-device                pipe fill gauge, its grade written with its shape, age
 *   data-bind="severity" data-site                  worst active alert of a site
 *   data-bind="heads"    data-site data-zone        live head count next to the expected (attributes.headCount)
 *   data-bind="clock"    data-zone                  the time at the site, with its zone
 *   data-bind="asof"                                when the newest reading was taken
 */
export function shedThi(siteId: string, zoneId: string): { value: number; ts: number; device: DeviceViewT } | undefined {
  const zone = findSite(siteId)?.zones.find((z) => z.id === zoneId);
  if (!zone) return undefined;
  for (const d of zone.devices) {
    if (d.latest.thi) return { value: d.latest.thi.value, ts: d.latest.thi.ts, device: d };
    const temp = d.latest.temperature;
    const hum = d.latest.humidity;
    if (temp && hum) return { value: sheepThi(temp.value, hum.value), ts: Math.min(temp.ts, hum.ts), device: d };
  }
  return undefined;
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent === text) return;
  // A value that changes flashes; the first one to arrive does not (a page full of rings says nothing).
  const first = el.textContent === '' || el.textContent === '—';
  el.textContent = text;
  if (first) return;
  el.classList.remove('flash');
  void el.offsetWidth; // restart the flash animation
  el.classList.add('flash');
}

function part(el: HTMLElement, name: string): HTMLElement | undefined {
  return $$(`[data-part="${name}"]`, el)[0];
}

/** Marks an element old (greyed) with the age of its value, or current. */
function age(el: HTMLElement, ageEl: HTMLElement | undefined, ts: number | undefined, device: DeviceViewT | undefined, now: number): void {
  const fresh = freshness(ts, device ? reportEveryMs(device) : undefined, now);
  el.dataset.fresh = fresh;
  if (!ageEl) return;
  ageEl.hidden = fresh !== 'old';
  if (fresh === 'old' && ts !== undefined) ageEl.textContent = fmtAge(now - ts, currentLang());
}

function livenessOf(d: DeviceViewT | undefined, now: number): Liveness {
  return d ? liveness({ role: d.role, status: d.status, lastSeen: d.lastSeen, reportEveryMs: reportEveryMs(d) }, now) : 'unknown';
}

function presenceText(d: DeviceViewT | undefined, state: Liveness, now: number): string {
  const lang = currentLang();
  if (state === 'silent' && d?.lastSeen) return t('presence.silentFor', { age: fmtAge(now - d.lastSeen, lang) });
  if (state === 'offline' && d?.statusTs) return t('presence.offlineSince', { age: fmtAge(now - d.statusTs, lang) });
  return tr('status', state);
}

const binders: Record<string, (el: HTMLElement, now: number) => void> = {
  reading(el, now) {
    const entry = deviceEntry(el.dataset.device!);
    const v = entry?.device.latest[el.dataset.metric!];
    const value = part(el, 'value');
    if (value) setText(value, fmt(v?.value));
    age(el, part(el, 'age'), v?.ts, entry?.device, now);
    el.dataset.presence = livenessOf(entry?.device, now);
    el.title = v
      ? `${fmtTime(v.ts, currentLang(), entry?.site.timeZone)}${el.dataset.fresh === 'old' ? ` · ${t('age.title', { t: fmtTime(v.ts, currentLang(), entry?.site.timeZone), every: fmtDuration(reportEveryMs(entry.device) ?? 300_000) })}` : ''}`
      : '';
  },
  mgm3(el) {
    const v = deviceEntry(el.dataset.device!)?.device.latest[el.dataset.metric!];
    setText(el, fmt(v === undefined ? undefined : ppmToMgM3(el.dataset.metric!, v.value)));
  },
  thi(el, now) {
    const thi = shedThi(el.dataset.site!, el.dataset.zone!);
    const zone = findSite(el.dataset.site!)?.zones.find((z) => z.id === el.dataset.zone);
    // The band by the zone's animal group (core/animal-groups.ts); its colour only from an active alert (below).
    const band = thi === undefined ? undefined : thiBandOf(thi.value, thiBands(zone?.attributes));
    // The colour is the active heat-stress alert's (rules with `for` wait before they fire): the badge and the
    // site's "no active alerts" never disagree.
    const alert = [...model.activeAlerts.values()].find((a) => a.site === el.dataset.site && a.zone === el.dataset.zone && a.metric === 'thi');
    setText(el, thi === undefined ? '—' : `${fmt(thi.value)} · ${t(`thi.${band}` as MessageKey)}`);
    el.dataset.band = alert?.level ?? '';
    el.dataset.alert = alert ? 'active' : 'none';
    el.title = alert ? `${tr('severity', alert.severity)} · ${levelName(alert.level)}` : thi ? t('thi.noAlert') : '';
    age(el, undefined, thi?.ts, thi?.device, now);
  },
  presence(el, now) {
    const entry = deviceEntry(el.dataset.device!);
    const d = entry?.device;
    const state = livenessOf(d, now);
    el.dataset.status = state;
    el.textContent = presenceText(d, state, now);
    el.title = d?.lastSeen ? t('common.lastSeen', { t: fmtTime(d.lastSeen, currentLang(), entry?.site.timeZone) }) : '';
  },
  'zone-presence'(el, now) {
    const zone = findSite(el.dataset.site!)?.zones.find((z) => z.id === el.dataset.zone);
    const devices = (zone?.devices ?? []).filter((d) => d.role !== 'reader');
    const down = devices.filter((d) => ['offline', 'silent'].includes(livenessOf(d, now))).length;
    el.hidden = down === 0;
    el.dataset.status = down === devices.length && down > 0 ? 'offline' : 'partial';
    el.textContent = down === devices.length ? t('presence.allOffline') : t('presence.zoneOffline', { n: down, total: devices.length });
  },
  'site-online'(el, now) {
    const devices = (findSite(el.dataset.site!)?.zones ?? []).flatMap((z) => z.devices);
    const online = devices.filter((d) => livenessOf(d, now) === 'online').length;
    el.textContent = t('site.devicesOnline', { n: online, total: devices.length });
    el.dataset.status = online === devices.length ? 'online' : online === 0 ? 'offline' : 'partial';
  },
  actuator(el, now) {
    const entry = deviceEntry(el.dataset.device!);
    const info = entry?.device.actuator;
    if (!entry || !info) return;
    const presence = livenessOf(entry.device, now);
    el.dataset.presence = presence;
    const state = part(el, 'state');
    if (state) {
      const text = info.state
        ? t(`state.${info.state}`) + (info.value !== undefined && info.state === 'on' && info.value < 100 ? ` ${fmt(info.value, 0)}%` : '')
        : t('state.unknown');
      setText(state, text);
      state.dataset.state = info.state ?? 'unknown';
    }
    const presenceEl = part(el, 'presence');
    if (presenceEl) {
      presenceEl.hidden = presence === 'online';
      presenceEl.dataset.status = presence;
      presenceEl.textContent = presenceText(entry.device, presence, now);
    }
    for (const mode of $$('[data-part="mode"]', el)) {
      mode.textContent = t(`mode.${info.mode}`);
      mode.dataset.mode = info.mode;
    }
    const fb = model.feedback.get(entry.device.id);
    const waiting = fb?.kind === 'waiting' || (info.pending !== undefined && fb?.kind !== 'failed');
    const pending = part(el, 'pending');
    if (pending) {
      pending.hidden = !waiting;
      pending.textContent = fb?.kind === 'waiting' && fb.attempt > 1 ? t('pending.try', { attempt: fb.attempt, attempts: fb.attempts }) : t('pending');
    }
    // Failed: seen live (the last try went unanswered), or on opening the page while its "not responding" alert is on.
    const dead = [...model.activeAlerts.values()].find((a) => a.rule === 'system:actuator' && a.device === entry.device.id);
    const deadTries = dead?.detail?.kind === 'actuator' ? dead.detail.attempts : undefined;
    const failedTries = fb?.kind === 'failed' ? fb.attempts : !waiting && dead ? deadTries : undefined;
    const failed = part(el, 'failed');
    if (failed) {
      failed.hidden = fb?.kind !== 'failed' && (waiting || !dead);
      if (!failed.hidden) failed.textContent = t('pending.failed', { device: el.dataset.name ?? entry.device.id, attempts: failedTries ?? '?' });
    }
    const lines = holderLines(info.holders, { timezone: entry.site.timeZone });
    const held = lines.find((l) => l.kind === 'operator');
    for (const hold of $$('[data-part="hold"]', el)) {
      hold.hidden = !held;
      hold.textContent = held?.text ?? '';
      hold.dataset.decides = String(held?.decides ?? false);
    }
    const why = lines.filter((l) => l.kind !== 'operator');
    for (const p of $$('[data-part="why"]', el)) {
      p.hidden = why.length === 0;
      p.textContent = why.length > 0 ? `${t('why.label')}: ${why.map((l) => l.text).join(' · ')}` : '';
    }
    const name = el.dataset.name ?? entry.device.id;
    for (const toggle of $$('[data-part="mode-toggle"]', el)) {
      toggle.textContent = info.mode === 'auto' ? t('action.toManual') : t('action.toAuto');
      toggle.dataset.to = info.mode === 'auto' ? 'manual' : 'auto';
      // The accessible name starts with what the button says (WCAG 2.5.3), then which actuator.
      toggle.setAttribute('aria-label', t('cmd.aria', { action: toggle.textContent, device: name }));
      toggle.title = t(info.mode === 'auto' ? 'cmd.toManual' : 'cmd.toAuto', { device: name });
    }
    // On and Off say which one is in force (what the actuator confirmed), for eyes and screen readers alike.
    for (const button of $$('button.toggle', el)) button.setAttribute('aria-pressed', String(info.state !== undefined && button.dataset.cmd === info.state));
    el.dataset.mode = info.mode;
  },
  fill(el, now) {
    const entry = deviceEntry(el.dataset.device!);
    const v = entry?.device.latest.fill;
    const fill = v?.value;
    const grade = fill === undefined || !entry ? 'none' : pipeGrade(entry.site.id, entry.zone, entry.device.id, fill);
    el.dataset.grade = grade;
    const bar = part(el, 'bar');
    if (bar) bar.style.height = `${Math.max(0, Math.min(100, fill ?? 0))}%`;
    const label = part(el, 'label');
    if (label) setText(label, fill === undefined ? '—' : `${fmt(fill, 0)}%`);
    const gradeEl = part(el, 'grade');
    if (gradeEl) gradeEl.textContent = fill === undefined ? '' : `${tr('grade.shape', grade)} ${levelName(grade)}`;
    age(el, part(el, 'age'), v?.ts, entry?.device, now);
    el.dataset.presence = livenessOf(entry?.device, now);
    el.title = `${t('metric.fill')}: ${t('grade.label', { grade: levelName(grade) })}`;
  },
  'net-node'(el, now) {
    const site = findSite(el.dataset.site!);
    const zone = site?.zones.find((z) => z.id === el.dataset.zone);
    const sensor = zone?.devices.find((d) => d.id === el.dataset.device);
    if (!zone) return;
    const latest = sensor?.latest ?? {};
    const level = latest.water_level?.value;
    const byLevel = levelFill(level, zone.attributes);
    // The fill sensor stops at 100 % of the pipe height; the level in metres shows how far above it the water is.
    const percent =
      byLevel && latest.fill && latest.fill.value >= 99.5 ? Math.max(byLevel.percent, latest.fill.value) : (latest.fill?.value ?? byLevel?.percent);
    const grade = percent === undefined ? 'none' : pipeGrade(site!.id, zone, sensor?.id, percent);
    el.dataset.grade = grade;
    const surcharged = byLevel !== undefined && byLevel.surchargeM > 0.005;
    el.dataset.surcharge = String(surcharged);
    const bar = part(el, 'bar');
    // The bar's full width is 125 %: the last fifth is surcharge, past the pipe's top.
    if (bar) bar.style.width = `${Math.max(0, Math.min(125, percent ?? 0)) / 1.25}%`;
    const fillEl = part(el, 'fill');
    if (fillEl) setText(fillEl, percent === undefined ? '—' : `${fmt(percent, 0)}%`);
    const gradeEl = part(el, 'grade');
    if (gradeEl) gradeEl.textContent = percent === undefined ? '' : `${tr('grade.shape', grade)} ${levelName(grade)}`;
    const sur = part(el, 'surcharge');
    if (sur) {
      sur.hidden = !surcharged;
      if (surcharged) sur.textContent = t('wall.surcharge', { m: fmt(byLevel.surchargeM, 2) });
    }
    const levelEl = part(el, 'level');
    if (levelEl) setText(levelEl, fmt(level, 2));
    const flowEl = part(el, 'flow');
    if (flowEl) setText(flowEl, fmt(latest.flow?.value, 0));
    const flowWrap = part(el, 'flow-wrap');
    if (flowWrap) flowWrap.hidden = !(sensor?.metrics ?? Object.keys(latest)).includes('flow');
    const pump = part(el, 'pump');
    if (pump) {
      const p = deviceEntry(pump.dataset.pump!)?.device;
      const state = part(pump, 'pump-state');
      const live = livenessOf(p, now);
      // A pump that does not answer its commands is what a drainage engineer must see first.
      const dead = [...model.activeAlerts.values()].some((a) => a.rule === 'system:actuator' && a.device === pump.dataset.pump);
      pump.dataset.state = p?.actuator?.state ?? 'unknown';
      pump.dataset.presence = dead ? 'offline' : live;
      const note = dead ? t('wall.notResponding') : live === 'offline' ? t('status.offline') : '';
      if (state) setText(state, `${p?.actuator?.state ? t(`state.${p.actuator.state}`) : t('state.unknown')}${note ? ` · ${note}` : ''}`);
    }
    const newest = Math.max(latest.fill?.ts ?? 0, latest.water_level?.ts ?? 0) || undefined;
    const presence = livenessOf(sensor, now);
    el.dataset.presence = presence;
    const presenceEl = part(el, 'presence');
    if (presenceEl) {
      presenceEl.dataset.status = presence;
      presenceEl.textContent = presenceText(sensor, presence, now);
    }
    age(el, undefined, newest, sensor, now);
  },
  heads(el) {
    const zone = findSite(el.dataset.site!)?.zones.find((z) => z.id === el.dataset.zone);
    if (!zone) return;
    const n = zone.headCount ?? 0;
    const expected = typeof zone.attributes?.headCount === 'number' ? zone.attributes.headCount : undefined;
    const out = zone.animalsOut ?? 0;
    const value = part(el, 'value');
    if (value) setText(value, expected === undefined ? String(n) : t('heads.value', { n, expected }));
    const outEl = part(el, 'out');
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
    const count = part(el, 'count');
    if (count)
      count.textContent =
        site?.worstSeverity && site.activeAlerts > 0
          ? `${tr('severity.shape', site.worstSeverity)} ${t('site.worst', { severity: tr('severity', site.worstSeverity), n: site.activeAlerts })}`
          : `● ${t('site.noAlerts')}`;
  },
  clock(el, now) {
    const zone = el.dataset.zone ?? 'UTC';
    const text = new Intl.DateTimeFormat(currentLang(), { timeZone: zone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(
      now,
    );
    if (el.textContent !== text) el.textContent = text;
  },
  asof(el, now) {
    const ts = newestData();
    el.textContent = ts === undefined ? t('wall.noData') : t('wall.dataAsOf', { t: fmtTime(ts, currentLang(), el.dataset.zone) });
    el.dataset.fresh = ts === undefined ? 'none' : now - ts > 120_000 ? 'old' : 'live';
  },
};

/** The newest reading the page holds: live, or from the snapshot. */
function newestData(): number | undefined {
  let newest = model.newestReadingTs;
  for (const site of model.sites)
    for (const zone of site.zones)
      for (const d of zone.devices) for (const v of Object.values(d.latest)) if (newest === undefined || v.ts > newest) newest = v.ts;
  return newest;
}

export function patchNow(root: ParentNode = document): void {
  const now = Date.now();
  for (const el of $$('[data-bind]', root)) binders[el.dataset.bind!]?.(el, now);
  const badge = document.querySelector<HTMLElement>('[data-testid="alert-badge"]');
  const open = [...model.activeAlerts.values()].filter((a) => a.state !== 'acknowledged').length;
  if (badge) {
    badge.textContent = open > 0 ? String(open) : '';
    badge.hidden = open === 0;
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
