import uPlot from 'uplot';
import { METRICS } from '../../../core/metrics-catalog.js';
import type { ReadingsResponseT } from '../../schemas.js';
import { get } from '../api.js';
import { esc } from '../dom.js';
import { t, tr } from '../i18n.js';
import { deviceEntry } from '../state.js';
import { sensorMetrics } from './cards.js';
import type { View } from './view.js';

/** History charts of one device's metric over 1 h / 24 h / 7 d, aggregated by the server (mean with min–max band). */
export const RANGES = ['1h', '24h', '7d'] as const;
export type Range = (typeof RANGES)[number];

async function fetchHistory(device: string, metric: string, range: Range): Promise<ReadingsResponseT> {
  return get<ReadingsResponseT>(`/api/readings?device=${encodeURIComponent(device)}&metric=${encodeURIComponent(metric)}&from=-${range}&to=now`);
}

function toData(res: ReadingsResponseT): uPlot.AlignedData {
  const buckets = res.series[0]?.buckets ?? [];
  return [buckets.map((b) => b.ts / 1000), buckets.map((b) => b.mean), buckets.map((b) => b.min), buckets.map((b) => b.max)];
}

function chartOptions(width: number, height: number, unit: string, small: boolean): uPlot.Options {
  const axis = { stroke: '#9fb0c0', grid: { stroke: 'rgba(160,180,200,0.12)' }, ticks: { stroke: 'rgba(160,180,200,0.2)' } };
  return {
    width,
    height,
    legend: { show: !small },
    cursor: { show: !small },
    scales: { x: { time: true } },
    axes: [axis, { ...axis, label: small ? undefined : unit, size: 56 }],
    series: [
      {},
      { label: t('history.mean'), stroke: '#4fc3f7', width: 2 },
      { label: 'min', stroke: 'rgba(79,195,247,0.35)', width: 1 },
      { label: 'max', stroke: 'rgba(79,195,247,0.35)', width: 1 },
    ],
    bands: [{ series: [3, 2], fill: 'rgba(79,195,247,0.12)' }],
  };
}

export async function miniChart(el: HTMLElement, device: string, metric: string): Promise<{ destroy(): void }> {
  const res = await fetchHistory(device, metric, '24h').catch(() => undefined);
  if (!res || (res.series[0]?.buckets.length ?? 0) === 0) {
    el.innerHTML = `<p class="muted">${esc(t('history.empty'))}</p>`;
    return { destroy() {} };
  }
  const chart = new uPlot(chartOptions(Math.max(240, el.clientWidth), 140, res.unit, true), toData(res), el);
  return { destroy: () => chart.destroy() };
}

export function historyView(device: string, metric: string, range: Range): View {
  let chart: uPlot | undefined;
  let onResize: (() => void) | undefined;
  const entry = deviceEntry(device);
  return {
    sites: () => (entry ? [entry.site.id] : []),
    async render(root) {
      const metrics = entry ? sensorMetrics(entry.device, entry.zone.kind) : [metric];
      const link = (m: string, r: Range) => `#/history/${encodeURIComponent(device)}/${encodeURIComponent(m)}?range=${r}`;
      root.innerHTML = `<h1 class="view-title">${esc(t('history.title'))}: ${esc(entry?.device.name ?? device)}${
        entry ? ` <a class="small" href="#/site/${esc(entry.site.id)}/zone/${esc(entry.zone.id)}">${esc(entry.zone.name ?? entry.zone.id)}</a>` : ''
      }</h1>
        <div class="toolbar">
          <div class="tabs">${metrics.map((m) => `<a href="${link(m, range)}" class="${m === metric ? 'active' : ''}" data-testid="metric-${esc(m)}">${esc(tr('metric', m))}</a>`).join('')}</div>
          <div class="tabs">${RANGES.map((r) => `<a href="${link(metric, r)}" class="${r === range ? 'active' : ''}" data-testid="range-${r}">${r}</a>`).join('')}</div>
        </div>
        <section class="card"><div class="chart" data-testid="history-chart"><p class="muted">${esc(t('common.loading'))}</p></div></section>`;
      const el = root.querySelector<HTMLElement>('.chart')!;
      const res = await fetchHistory(device, metric, range);
      const points = res.series[0]?.buckets.length ?? 0;
      el.dataset.points = String(points);
      if (points === 0) {
        el.innerHTML = `<p class="muted" data-testid="history-empty">${esc(t('history.empty'))}</p>`;
        return;
      }
      el.innerHTML = '';
      const height = Math.max(220, Math.min(420, window.innerHeight - 320));
      chart = new uPlot(chartOptions(el.clientWidth, height, METRICS[metric]?.unit ?? res.unit, false), toData(res), el);
      onResize = () => chart?.setSize({ width: el.clientWidth, height });
      window.addEventListener('resize', onResize);
    },
    dispose() {
      if (onResize) window.removeEventListener('resize', onResize);
      chart?.destroy();
    },
  };
}
