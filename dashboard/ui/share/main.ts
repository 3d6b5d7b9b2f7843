import 'uplot/dist/uPlot.min.css';
import './share.css';
import uPlot from 'uplot';
import type { SharedZoneT } from '../../access/schemas.js';
import { esc, fmt } from '../dom.js';
import { currentLang, named, setLang, t, tr } from '../i18n.js';
import { fmtZoned } from '../zoned-time.js';
import { timeAxisValues } from '../time-axis.js';

/**
 * The share page (/share/{token}): one zone, read-only, for a phone and without a login. It shows the zone's
 * name, the latest values of the shared metrics and their last 7 days hour by hour, in the site's time zone,
 * in Chinese or English, and asks again every 30 s. It has no controls and reaches nothing but its own link.
 */
const REFRESH_MS = 30_000;
const root = document.getElementById('share')!;
const token = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
let data: SharedZoneT | undefined;
let charts: { key: string; plot: uPlot }[] = [];
let unreachable = false;

type Outcome = { kind: 'ok'; data: SharedZoneT } | { kind: 'gone' } | { kind: 'unreachable' };

async function fetchShare(): Promise<Outcome> {
  try {
    const res = await fetch(`/api/share/${encodeURIComponent(token)}`, { cache: 'no-store', credentials: 'omit' });
    if (res.status === 404 || res.status === 400) return { kind: 'gone' };
    if (!res.ok) return { kind: 'unreachable' };
    return { kind: 'ok', data: (await res.json()) as SharedZoneT };
  } catch {
    return { kind: 'unreachable' };
  }
}

const zoneName = (d: SharedZoneT) => named(d.zone);
const seriesKey = (s: { device: string; metric: string }) => `${s.device}/${s.metric}`;
/** The unit in the reader's language ("% of pipe height" is "% 管高"). */
const unitText = (s: { metric: string; unit: string }) => (tr('unit', s.metric) === s.metric ? s.unit : tr('unit', s.metric));

function tiles(d: SharedZoneT): string {
  const lang = currentLang();
  const several = (metric: string) => d.values.filter((v) => v.metric === metric).length > 1;
  if (d.values.length === 0) return `<p class="muted">${esc(t('share.noData'))}</p>`;
  return d.values
    .map(
      (v) => `<div class="share-tile" data-testid="share-value-${esc(v.metric)}">
        <div class="label">${esc(tr('metric', v.metric))}${several(v.metric) ? ` · ${esc(named({ id: v.device, name: v.name }))}` : ''}</div>
        <div><span class="value">${esc(fmt(v.value))}</span><span class="unit">${esc(unitText(v))}</span></div>
        <div class="when">${esc(t('share.updated', { t: fmtZoned(v.ts, d.site.timeZone, lang, 'time') }))}</div>
      </div>`,
    )
    .join('');
}

function toData(s: SharedZoneT['history'][number]): uPlot.AlignedData {
  return [s.buckets.map((b) => b.ts / 1000), s.buckets.map((b) => b.mean), s.buckets.map((b) => b.min), s.buckets.map((b) => b.max)];
}

function drawCharts(d: SharedZoneT): void {
  for (const c of charts) c.plot.destroy();
  charts = [];
  const axis = { stroke: '#5c6b5f', grid: { stroke: 'rgba(0,0,0,0.07)' }, ticks: { stroke: 'rgba(0,0,0,0.15)' }, font: '12px system-ui' };
  for (const s of d.history) {
    const el = root.querySelector<HTMLElement>(`[data-chart="${CSS.escape(seriesKey(s))}"]`);
    if (!el) continue;
    const plot = new uPlot(
      {
        width: Math.max(260, el.clientWidth),
        height: 180,
        legend: { show: false },
        cursor: { show: true, drag: { x: false, y: false } },
        // The x axis in the site's time zone, whatever the phone's own zone.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), d.site.timeZone),
        scales: { x: { time: true, range: () => [d.from / 1000, d.to / 1000] } },
        axes: [
          { ...axis, values: timeAxisValues(currentLang(), d.site.timeZone) },
          { ...axis, size: 48 },
        ],
        series: [
          {},
          { label: tr('metric', s.metric), stroke: '#2e7d32', width: 2, points: { show: s.buckets.length < 3 } },
          { stroke: 'rgba(46,125,50,0.3)', width: 1, points: { show: false } },
          { stroke: 'rgba(46,125,50,0.3)', width: 1, points: { show: false } },
        ],
        bands: [{ series: [3, 2], fill: 'rgba(46,125,50,0.12)' }],
      },
      toData(s),
      el,
    );
    charts.push({ key: seriesKey(s), plot });
  }
}

function render(): void {
  if (!data) return;
  const d = data;
  const lang = currentLang();
  document.title = `${zoneName(d)} · ${t('app.title')}`;
  const several = (metric: string) => d.history.filter((h) => h.metric === metric).length > 1;
  root.innerHTML = `
    <header class="share-head">
      <div><p class="share-site">${esc(named(d.site))}</p><h1 data-testid="share-zone">${esc(zoneName(d))}</h1></div>
      <button type="button" class="share-lang" data-testid="share-lang">${esc(t('lang.other'))}</button>
    </header>
    <p class="share-note" data-testid="share-unreachable" ${unreachable ? '' : 'hidden'}>${esc(t('share.unreachable'))}</p>
    <section class="share-values" data-testid="share-values">${tiles(d)}</section>
    ${d.history
      .map(
        (
          s,
        ) => `<section class="share-chart-card"><h2>${esc(t('share.week', { metric: tr('metric', s.metric) }))}${several(s.metric) ? ` · ${esc(named({ id: s.device, name: s.name }))}` : ''} <span class="muted">(${esc(unitText(s))})</span></h2>
          <div class="share-chart" data-testid="share-chart-${esc(s.metric)}" data-points="${s.buckets.length}" data-chart="${esc(seriesKey(s))}"></div></section>`,
      )
      .join('')}
    <footer class="share-foot">
      <p>${esc(t('share.readOnly'))} ${esc(t('share.validUntil', { t: fmtZoned(d.expiresAt, d.site.timeZone, lang, 'date') }))} ${esc(t('share.timesIn', { tz: d.site.timeZone }))}</p>
    </footer>`;
  root.querySelector('[data-testid="share-lang"]')?.addEventListener('click', () => {
    setLang(currentLang() === 'en' ? 'zh-CN' : 'en');
    render();
  });
  drawCharts(d);
}

function gone(): void {
  for (const c of charts) c.plot.destroy();
  charts = [];
  data = undefined;
  // Both languages: whoever opens a dead link may not read the other one.
  root.innerHTML = `<div class="share-gone" data-testid="share-gone"><p lang="zh-CN">此链接已过期或已被撤销，请向分享者索取新链接。</p><p lang="en">This link has expired or was revoked. Ask whoever shared it for a new one.</p></div>`;
}

async function refresh(): Promise<void> {
  const outcome = await fetchShare();
  if (outcome.kind === 'gone') return gone();
  if (outcome.kind === 'unreachable') {
    unreachable = true;
    const note = root.querySelector<HTMLElement>('[data-testid="share-unreachable"]');
    if (note) note.hidden = false;
    return;
  }
  unreachable = false;
  const first = !data;
  data = outcome.data;
  if (first) return render();
  // Later rounds: new values and chart data in place, so a phone's scroll position and the open tooltip stay.
  const values = root.querySelector<HTMLElement>('[data-testid="share-values"]');
  if (values) values.innerHTML = tiles(data);
  root.querySelector<HTMLElement>('[data-testid="share-unreachable"]')?.setAttribute('hidden', '');
  const same = data.history.length === charts.length && data.history.every((s, i) => charts[i].key === seriesKey(s));
  if (!same) return render();
  data.history.forEach((s, i) => charts[i].plot.setData(toData(s)));
}

const asked = new URLSearchParams(location.search).get('lang');
setLang(asked ? (asked.startsWith('zh') ? 'zh-CN' : 'en') : currentLang());
void refresh();
setInterval(() => void refresh(), REFRESH_MS);
window.addEventListener('resize', () => {
  for (const c of charts) {
    const el = root.querySelector<HTMLElement>(`[data-chart="${CSS.escape(c.key)}"]`);
    if (el) c.plot.setSize({ width: Math.max(260, el.clientWidth), height: 180 });
  }
});
