import uPlot from 'uplot';
import { METRICS } from '../../../core/metrics-catalog.js';
import { zoneLabel } from '../../../core/site-time.js';
import type { ReadingsResponseT } from '../../schemas.js';
import { get } from '../api.js';
import { esc } from '../dom.js';
import { currentLang, named, t, tr } from '../i18n.js';
import { deviceEntry } from '../state.js';
import { sensorMetrics } from './cards.js';
import type { View } from './view.js';

/**
 * History charts of one device's metric over 1 h / 24 h / 7 d, aggregated by the server (mean with a min–max
 * band), drawn with uPlot and refetched every minute so a chart on a wall keeps moving.
 */
export const RANGES = ['1h', '24h', '7d'] as const;
export type Range = (typeof RANGES)[number];
const REFRESH_MS = 60_000;

async function fetchHistory(device: string, metric: string, range: Range): Promise<ReadingsResponseT> {
  return get<ReadingsResponseT>(`/api/readings?device=${encodeURIComponent(device)}&metric=${encodeURIComponent(metric)}&from=-${range}&to=now`);
}

function toData(res: ReadingsResponseT): uPlot.AlignedData {
  const buckets = res.series[0]?.buckets ?? [];
  return [buckets.map((b) => b.ts / 1000), buckets.map((b) => b.mean), buckets.map((b) => b.min), buckets.map((b) => b.max)];
}

/** Every reading of the chart's range as CSV (times in the site's zone, header in the page's language). */
function csvUrl(device: string, metric: string, range: Range): string {
  return `/api/readings?${new URLSearchParams({ device, metric, from: `-${range}`, to: 'now', format: 'csv', lang: currentLang() })}`;
}

const points = (res: ReadingsResponseT) => res.series[0]?.buckets.length ?? 0;

interface Chart {
  update(res: ReadingsResponseT): void;
  resize(width: number, height: number): void;
  destroy(): void;
}

/** The x axis spans the range asked for, so a sparse series still reads as "the last 24 h" (not an auto-zoom). */
function drawChart(el: HTMLElement, first: ReadingsResponseT, size: { width: number; height: number }, small: boolean): Chart {
  let span = { from: first.from, to: first.to };
  // The time axis reads in the site's zone (as its buckets are cut), never the browser's.
  const timeZone = first.series[0]?.timeZone ?? 'UTC';
  const axis = { stroke: '#9fb0c0', grid: { stroke: 'rgba(160,180,200,0.12)' }, ticks: { stroke: 'rgba(160,180,200,0.2)' }, font: small ? '12px system-ui' : '14px system-ui' };
  const unit = METRICS[first.metric]?.unit ?? first.unit;
  const options: uPlot.Options = {
    ...size,
    legend: { show: !small },
    cursor: { show: !small },
    scales: { x: { time: true, range: () => [span.from / 1000, span.to / 1000] } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
    axes: [{ ...axis, label: small ? undefined : `${timeZone} (${zoneLabel(timeZone, span.to)})` }, { ...axis, label: small ? undefined : unit, size: 60 }],
    series: [
      {},
      { label: t('history.mean'), stroke: '#4fc3f7', width: 2, points: { show: points(first) < 3 } },
      { label: 'min', stroke: 'rgba(79,195,247,0.35)', width: 1, points: { show: false } },
      { label: 'max', stroke: 'rgba(79,195,247,0.35)', width: 1, points: { show: false } },
    ],
    bands: [{ series: [3, 2], fill: 'rgba(79,195,247,0.12)' }],
  };
  el.innerHTML = '';
  const plot = new uPlot(options, toData(first), el);
  return {
    update(res) {
      span = { from: res.from, to: res.to };
      plot.setData(toData(res));
      el.dataset.points = String(points(res));
    },
    resize: (width, height) => plot.setSize({ width, height }),
    destroy: () => plot.destroy(),
  };
}

/** A small 24 h chart for a zone page; shows "no data" until the store has some. */
export function miniChart(el: HTMLElement, device: string, metric: string): { destroy(): void } {
  let chart: Chart | undefined;
  let stopped = false;
  const load = async () => {
    const res = await fetchHistory(device, metric, '24h').catch(() => undefined);
    if (stopped || !res) return;
    el.dataset.points = String(points(res));
    if (points(res) === 0 && !chart) el.innerHTML = `<p class="muted">${esc(t('history.empty'))}</p>`;
    else if (!chart) chart = drawChart(el, res, { width: Math.max(240, el.clientWidth), height: 150 }, true);
    else chart.update(res);
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

export function historyView(device: string, metric: string, range: Range): View {
  let chart: Chart | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let onResize: (() => void) | undefined;
  const entry = deviceEntry(device);
  return {
    sites: () => (entry ? [entry.site.id] : []),
    async render(root) {
      const metrics = entry ? sensorMetrics(entry.device, entry.zone.kind) : [metric];
      const link = (m: string, r: Range) => `#/history/${encodeURIComponent(device)}/${encodeURIComponent(m)}?range=${r}`;
      root.innerHTML = `<h1 class="view-title">${esc(t('history.title'))}: ${esc(entry ? named(entry.device) : device)}${
        entry ? ` <a class="small" href="#/site/${esc(entry.site.id)}/zone/${esc(entry.zone.id)}">${esc(named(entry.zone))}</a>` : ''
      }</h1>
        <div class="toolbar">
          <div class="tabs">${metrics.map((m) => `<a href="${link(m, range)}" class="${m === metric ? 'active' : ''}" data-testid="metric-${esc(m)}">${esc(tr('metric', m))}</a>`).join('')}</div>
          <div class="tabs">${RANGES.map((r) => `<a href="${link(metric, r)}" class="${r === range ? 'active' : ''}" data-testid="range-${r}">${r}</a>`).join('')}</div>
          <a class="button" data-testid="download-csv" download href="${esc(csvUrl(device, metric, range))}">⤓ ${esc(t('export.csv'))}</a>
        </div>
        <section class="card"><div class="chart" data-testid="history-chart"><p class="muted">${esc(t('common.loading'))}</p></div></section>`;
      const el = root.querySelector<HTMLElement>('.chart')!;
      const res = await fetchHistory(device, metric, range);
      el.dataset.points = String(points(res));
      if (points(res) === 0) {
        el.innerHTML = `<p class="muted" data-testid="history-empty">${esc(t('history.empty'))}</p>`;
        return;
      }
      const height = Math.max(220, Math.min(480, window.innerHeight - 300));
      chart = drawChart(el, res, { width: el.clientWidth, height }, false);
      onResize = () => chart?.resize(el.clientWidth, height);
      window.addEventListener('resize', onResize);
      timer = setInterval(() => void fetchHistory(device, metric, range).then((next) => chart?.update(next), () => {}), REFRESH_MS);
    },
    dispose() {
      clearInterval(timer);
      if (onResize) window.removeEventListener('resize', onResize);
      chart?.destroy();
    },
  };
}
