import uPlot from 'uplot';
import { zoneLabel } from '../../../core/site-time.js';
import type { ReadingsResponseT } from '../../schemas.js';
import { fmtDuration, levelName } from '../alert-text.js';
import { chartSeries, type ChartSeries, type Threshold } from '../chart-data.js';
import { currentLang, t } from '../i18n.js';
import { unitOf } from './cards.js';
import { dateFormat, timeAxisValues } from '../time-axis.js';

/**
 * A history chart drawn with uPlot, readable in both languages: time axis and legend in the site's zone and the
 * reader's language and 24-hour clock (no "4pm", no "11/29/26"), levels as mean with a min–max band, increments as
 * bars per bucket with the running total on a second axis, gaps left as gaps, the rules' thresholds as dashed
 * lines in their grade's colour, and (big charts) drag to zoom.
 */
export interface Chart {
  update(res: ReadingsResponseT, thresholds: readonly Threshold[]): void;
  resize(width: number, height: number): void;
  destroy(): void;
}

export interface ChartOptions {
  small: boolean;
  /** A range was dragged across the chart (epoch ms): the caller fetches it with finer buckets. */
  onZoom?(from: number, to: number): void;
}

const GRADE_COLOURS: Record<string, string> = {
  blue: '#60a5fa',
  yellow: '#ffd60a',
  orange: '#ff9f43',
  red: '#ff6b6b',
  moderate: '#ffd60a',
  severe: '#ff9f43',
  extreme: '#ff6b6b',
  above: '#ff9f43',
  below: '#60a5fa',
};
const SEVERITY_COLOURS: Record<string, string> = { info: '#60a5fa', warning: '#ff9f43', critical: '#ff6b6b' };
const LINE = '#4fc3f7';
const BAR = 'rgba(79, 195, 247, 0.75)';
const TOTAL = '#ffd60a';

function toData(s: ChartSeries): uPlot.AlignedData {
  const x = s.x.map((ts) => ts / 1000);
  return s.kind === 'level' ? [x, s.mean, s.min, s.max] : [x, s.sum, s.total];
}

function seriesOf(res: ReadingsResponseT): ChartSeries {
  return chartSeries(res.metric, res.series[0]?.buckets ?? [], res.everyMs);
}

export function drawChart(
  el: HTMLElement,
  first: ReadingsResponseT,
  firstThresholds: readonly Threshold[],
  size: { width: number; height: number },
  options: ChartOptions,
): Chart {
  let span = { from: first.from, to: first.to };
  let thresholds = [...firstThresholds];
  const lang = currentLang();
  // The time axis reads in the site's zone (as its buckets are cut), never the browser's.
  const timeZone = first.series[0]?.timeZone ?? 'UTC';
  const font = options.small ? '12px system-ui, sans-serif' : '14px system-ui, sans-serif';
  const axis: uPlot.Axis = {
    stroke: '#c5d0db',
    grid: { stroke: 'rgba(160,180,200,0.14)' },
    ticks: { stroke: 'rgba(160,180,200,0.25)' },
    font,
    labelFont: font,
  };
  const unit = unitOf(first.metric);
  const initial = seriesOf(first);
  const increment = initial.kind === 'increment';
  const timeValues = timeAxisValues(lang, timeZone);
  const yValues: uPlot.Axis.Values = (_u, splits) => splits.map((v) => new Intl.NumberFormat(lang, { maximumFractionDigits: 2 }).format(v));
  const every = fmtDuration(first.everyMs, lang);
  const plotOptions: uPlot.Options = {
    ...size,
    legend: { show: !options.small },
    cursor: { show: !options.small, drag: { x: Boolean(options.onZoom), y: false, setScale: false } },
    scales: {
      x: { time: true, range: () => [span.from / 1000, span.to / 1000] },
      y: { range: (_u, min, max) => yRange(min, max, thresholds, increment) },
      ...(increment ? { total: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } } : {}),
    },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
    axes: [
      { ...axis, values: timeValues, label: options.small ? undefined : `${t('chart.time')} · ${timeZone} (${zoneLabel(timeZone, span.to)})` },
      { ...axis, values: yValues, label: options.small ? undefined : unit, size: 60 },
      ...(increment
        ? [
            {
              ...axis,
              scale: 'total',
              side: 1,
              values: yValues,
              grid: { show: false },
              label: options.small ? undefined : `${t('chart.total')} (${unit})`,
              size: 60,
            } as uPlot.Axis,
          ]
        : []),
    ],
    series: [
      {
        label: t('chart.time'),
        value: (_u, v) => (v === null ? '—' : `${dateFormat(lang, timeZone, 'full').format(v * 1000)} ${zoneLabel(timeZone, v * 1000)}`),
      },
      ...(increment
        ? [
            {
              label: t('chart.sum', { every }),
              stroke: BAR,
              fill: BAR,
              width: 0,
              paths: uPlot.paths.bars!({ size: [0.85, 60], align: 1 }),
              points: { show: false },
            },
            { label: t('chart.total'), scale: 'total', stroke: TOTAL, width: 2, points: { show: false } },
          ]
        : [
            { label: t('history.mean'), stroke: LINE, width: 2, points: { show: initial.x.length < 3 } },
            { label: t('chart.min'), stroke: 'rgba(79,195,247,0.4)', width: 1, points: { show: false } },
            { label: t('chart.max'), stroke: 'rgba(79,195,247,0.4)', width: 1, points: { show: false } },
          ]),
    ],
    bands: increment ? [] : [{ series: [3, 2], fill: 'rgba(79,195,247,0.12)' }],
    hooks: {
      draw: [(u) => drawThresholds(u, thresholds, options.small)],
      setSelect: [
        (u) => {
          if (!options.onZoom || u.select.width < 5) return;
          const from = u.posToVal(u.select.left, 'x') * 1000;
          const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          options.onZoom(Math.round(from), Math.round(to));
        },
      ],
    },
  };
  el.innerHTML = '';
  const plot = new uPlot(plotOptions, toData(initial), el);
  el.dataset.kind = initial.kind;
  el.dataset.gaps = String(initial.x.length - (first.series[0]?.buckets.length ?? 0));
  el.dataset.thresholds = thresholds.map((th) => th.value).join(' ');
  return {
    update(res, next) {
      span = { from: res.from, to: res.to };
      thresholds = [...next];
      const s = seriesOf(res);
      plot.setData(toData(s));
      el.dataset.points = String(res.series[0]?.buckets.length ?? 0);
      el.dataset.gaps = String(s.x.length - (res.series[0]?.buckets.length ?? 0));
      el.dataset.thresholds = thresholds.map((th) => th.value).join(' ');
    },
    resize: (width, height) => plot.setSize({ width, height }),
    destroy: () => plot.destroy(),
  };
}

/** The y range includes the thresholds, so a red line at 85 % shows even while the pipe is at 20 %. */
function yRange(min: number | null, max: number | null, thresholds: readonly Threshold[], fromZero: boolean): uPlot.Range.MinMax {
  const values = [min, max, ...thresholds.map((th) => th.value)].filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return [0, 1];
  let lo = Math.min(...values);
  const hi = Math.max(...values);
  if (fromZero) lo = Math.min(0, lo);
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.08;
  return [fromZero ? lo : lo - pad, hi + pad];
}

function drawThresholds(u: uPlot, thresholds: readonly Threshold[], small: boolean): void {
  const ctx = u.ctx;
  ctx.save();
  ctx.font = `${Math.round((small ? 11 : 13) * devicePixelRatio)}px system-ui, sans-serif`;
  ctx.textAlign = 'right';
  for (const th of thresholds) {
    const y = u.valToPos(th.value, 'y', true);
    if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
    const colour = GRADE_COLOURS[th.level] ?? SEVERITY_COLOURS[th.severity ?? ''] ?? '#ff9f43';
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(u.bbox.left, y);
    ctx.lineTo(u.bbox.left + u.bbox.width, y);
    ctx.stroke();
    const label = th.level === 'above' ? `> ${th.value}` : th.level === 'below' ? `< ${th.value}` : `${levelName(th.level)} ${th.value}`;
    if (!small) ctx.fillText(label, u.bbox.left + u.bbox.width - 4, y - 4 * devicePixelRatio);
  }
  ctx.restore();
}
