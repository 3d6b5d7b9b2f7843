import { isIncrement } from '../../../core/metrics-catalog.js';
import { instantOfWall, wallMs } from '../../../core/site-time.js';
import type { ReadingsResponseT } from '../../schemas.js';
import { get } from '../api.js';
import { barWidthMs, chartThresholds, type Threshold } from '../chart-data.js';
import { esc } from '../dom.js';
import { errorText } from '../error-text.js';
import { currentLang, t, tr, named } from '../i18n.js';
import { deviceLabel } from '../alert-text.js';
import { deviceEntry, model } from '../state.js';
import { sensorMetrics } from './cards.js';
import { drawChart, type Chart } from './chart.js';
import type { View } from './view.js';

/**
 * History of one device's metric: the last 1 h / 24 h / 7 d, or a custom range (from–to in the site's time zone),
 * aggregated by the server; drag across the chart to zoom in (the zoomed range is fetched again with finer
 * buckets; "reset" goes back). Refetched every minute while the range ends now, so a chart on a wall keeps moving.
 */
export const RANGES = ['1h', '24h', '7d'] as const;
export type Range = (typeof RANGES)[number];
const RANGE_MS: Record<Range, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };
const REFRESH_MS = 60_000;

/** A preset ending now, or a fixed span (custom or zoomed). */
export type Span = { kind: 'preset'; range: Range } | { kind: 'fixed'; from: number; to: number };

export function spanOf(query: URLSearchParams): Span {
  const from = Number(query.get('from'));
  const to = Number(query.get('to'));
  if (Number.isFinite(from) && Number.isFinite(to) && from > 0 && to > from) return { kind: 'fixed', from, to };
  const range = query.get('range');
  return { kind: 'preset', range: (RANGES as readonly string[]).includes(range ?? '') ? (range as Range) : '24h' };
}

function bounds(span: Span, now = Date.now()): { from: number; to: number } {
  return span.kind === 'preset' ? { from: now - RANGE_MS[span.range], to: now } : span;
}

function everyFor(metric: string, span: Span): string | undefined {
  if (!isIncrement(metric)) return undefined; // levels: the server picks about 200 buckets
  const { from, to } = bounds(span);
  return `${Math.round(barWidthMs(to - from) / 60_000)}m`;
}

export async function fetchHistory(device: string, metric: string, span: Span): Promise<ReadingsResponseT> {
  const { from, to } = span.kind === 'preset' ? { from: `-${span.range}`, to: 'now' } : { from: String(span.from), to: String(span.to) };
  const every = everyFor(metric, span);
  const q = new URLSearchParams({ device, metric, from, to, ...(every ? { every } : {}) });
  return get<ReadingsResponseT>(`/api/readings?${q}`);
}

export function thresholdsFor(device: string, metric: string, everyMs: number): Threshold[] {
  const entry = deviceEntry(device);
  if (!entry) return [];
  return chartThresholds(
    model.rules,
    { site: entry.site.id, zone: entry.zone.id, kind: entry.zone.kind, device, attributes: entry.zone.attributes },
    metric,
    everyMs,
  );
}

/** Every reading of the chart's range as CSV (times in the site's zone, header in the page's language). */
function csvUrl(device: string, metric: string, span: Span): string {
  const { from, to } = span.kind === 'preset' ? { from: `-${span.range}`, to: 'now' } : { from: String(span.from), to: String(span.to) };
  return `/api/readings?${new URLSearchParams({ device, metric, from, to, format: 'csv', lang: currentLang() })}`;
}

const points = (res: ReadingsResponseT) => res.series[0]?.buckets.length ?? 0;

/**
 * `2026-11-30 14:00` in the site's zone. Plain text, not a datetime-local input: that one shows the browser's
 * locale ("04:26 PM") whatever language the page is in, and the browser's zone plays no part here.
 */
function localInput(ts: number, zone: string): string {
  return new Date(wallMs(zone, ts)).toISOString().slice(0, 16).replace('T', ' ');
}

function fromLocalInput(value: string, zone: string): number | undefined {
  const m = /^\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})\s*$/.exec(value);
  if (!m) return undefined;
  const wall = Date.parse(`${m[1]}T${m[2].padStart(2, '0')}:${m[3]}:00Z`);
  return Number.isFinite(wall) ? instantOfWall(zone, wall) : undefined;
}

/** A small 24 h chart for a zone page; shows "no data" until the store has some. */
export function miniChart(el: HTMLElement, device: string, metric: string): { destroy(): void } {
  let chart: Chart | undefined;
  let stopped = false;
  const span: Span = { kind: 'preset', range: '24h' };
  const load = async () => {
    const res = await fetchHistory(device, metric, span).catch(() => undefined);
    if (stopped || !res) return;
    el.dataset.points = String(points(res));
    const th = thresholdsFor(device, metric, res.everyMs);
    if (points(res) === 0 && !chart) el.innerHTML = `<p class="muted">${esc(t('history.empty'))}</p>`;
    else if (!chart) chart = drawChart(el, res, th, { width: Math.max(240, el.clientWidth), height: 150 }, { small: true });
    else chart.update(res, th);
  };
  void load();
  const timer = setInterval(() => void load(), REFRESH_MS);
  return {
    destroy() {
      stopped = true;
      clearInterval(timer);
      chart?.destroy();
    },
  };
}

export function historyView(device: string, metric: string, span: Span): View {
  let chart: Chart | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let onResize: (() => void) | undefined;
  const entry = deviceEntry(device);
  const zone = entry?.site.timeZone ?? 'UTC';
  const link = (m: string, s: Span) =>
    `#/history/${encodeURIComponent(device)}/${encodeURIComponent(m)}?${s.kind === 'preset' ? `range=${s.range}` : `from=${s.from}&to=${s.to}`}`;
  return {
    sites: () => (entry ? [entry.site.id] : []),
    async render(root) {
      const metrics = entry ? sensorMetrics(entry.device, entry.zone.kind) : [metric];
      const { from, to } = bounds(span);
      const fixed = span.kind === 'fixed';
      const label = entry ? deviceLabel(entry.site, entry.zone.id, device) : device;
      // A zone's only sensor is called by the zone: then the link to the zone says its site instead.
      const up =
        entry &&
        (label === named(entry.zone)
          ? { href: `#/site/${entry.site.id}`, text: named(entry.site) }
          : { href: `#/site/${entry.site.id}/zone/${entry.zone.id}`, text: named(entry.zone) });
      root.innerHTML = `<h1 class="view-title">${esc(t('history.title'))}: ${esc(label)}${up ? ` <a class="small" href="${esc(up.href)}">${esc(up.text)}</a>` : ''}</h1>
        <div class="toolbar">
          <div class="tabs" role="group" aria-label="${esc(t('alerts.filterText'))}">${metrics.map((m) => `<a href="${link(m, span)}" class="${m === metric ? 'active' : ''}" data-testid="metric-${esc(m)}"${m === metric ? ' aria-current="page"' : ''}>${esc(tr('metric', m))}</a>`).join('')}</div>
          <div class="tabs">${RANGES.map((r) => `<a href="${link(metric, { kind: 'preset', range: r })}" class="${span.kind === 'preset' && r === span.range ? 'active' : ''}" data-testid="range-${r}">${esc(t(`dur.${r}`))}</a>`).join('')}${fixed ? `<a href="${link(metric, { kind: 'preset', range: '24h' })}" data-testid="zoom-reset">${esc(t('chart.reset'))}</a>` : ''}</div>
          <form class="range-form" data-testid="custom-range" novalidate>
            <label>${esc(t('chart.from'))}<input name="from" value="${localInput(from, zone)}" placeholder="YYYY-MM-DD HH:MM" pattern="\\d{4}-\\d{2}-\\d{2} \\d{1,2}:\\d{2}" size="16" data-testid="range-from"></label>
            <label>${esc(t('chart.to'))}<input name="to" value="${localInput(to, zone)}" placeholder="YYYY-MM-DD HH:MM" pattern="\\d{4}-\\d{2}-\\d{2} \\d{1,2}:\\d{2}" size="16" data-testid="range-to"></label>
            <button type="submit" data-testid="range-apply">${esc(t('chart.apply'))}</button>
            <span class="field-error" data-testid="range-error" role="alert" hidden></span>
          </form>
          <a class="button" data-testid="download-csv" download href="${esc(csvUrl(device, metric, span))}">⤓ ${esc(t('export.csv'))}</a>
        </div>
        <p class="muted small">${esc(t('common.timesIn', { zone }))} · ${esc(t('chart.zoomHint'))}</p>
        <section class="card"><div class="chart" data-testid="history-chart"><p class="muted">${esc(t('common.loading'))}</p></div></section>`;
      const form = root.querySelector<HTMLFormElement>('form.range-form')!;
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const a = fromLocalInput(String(data.get('from')), zone);
        const b = fromLocalInput(String(data.get('to')), zone);
        const error = form.querySelector<HTMLElement>('[data-testid="range-error"]')!;
        if (a === undefined || b === undefined || a >= b) {
          error.textContent = t('chart.rangeBad');
          error.hidden = false;
          return;
        }
        location.hash = link(metric, { kind: 'fixed', from: a, to: b });
      });
      const el = root.querySelector<HTMLElement>('.chart')!;
      let res: ReadingsResponseT;
      try {
        res = await fetchHistory(device, metric, span);
      } catch (err) {
        el.innerHTML = `<p class="error" data-testid="history-error">${esc(errorText(err))}</p>`;
        return;
      }
      el.dataset.points = String(points(res));
      if (points(res) === 0) {
        el.innerHTML = `<p class="muted" data-testid="history-empty">${esc(t('history.empty'))}</p>`;
        return;
      }
      const height = Math.max(220, Math.min(480, window.innerHeight - 320));
      chart = drawChart(
        el,
        res,
        thresholdsFor(device, metric, res.everyMs),
        { width: el.clientWidth, height },
        { small: false, onZoom: (a, b) => (location.hash = link(metric, { kind: 'fixed', from: a, to: b })) },
      );
      onResize = () => chart?.resize(el.clientWidth, height);
      window.addEventListener('resize', onResize);
      if (span.kind === 'preset')
        timer = setInterval(
          () =>
            void fetchHistory(device, metric, span).then(
              (next) => chart?.update(next, thresholdsFor(device, metric, next.everyMs)),
              () => {},
            ),
          REFRESH_MS,
        );
    },
    dispose() {
      clearInterval(timer);
      if (onResize) window.removeEventListener('resize', onResize);
      chart?.destroy();
    },
  };
}
