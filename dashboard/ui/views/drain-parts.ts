import type { DrainageResponseT } from '../../schemas.js';
import { esc, fmt, fmtClock } from '../dom.js';
import { currentLang, named, t, tr } from '../i18n.js';
import { deviceEntry } from '../state.js';

/**
 * The drainage tables shared by the overview and the drainage view: rain gauges with 1 h / 24 h rainfall and
 * warning level, and the pipes at long-term high water in dry weather (the ones to dredge).
 */
export const LEVELS = ['blue', 'yellow', 'orange', 'red'] as const;

/** A level's name in the page's language: the warning colours, GB/T 28592's day grades (暴雨 …), heat-stress grades. */
export function levelLabel(level: string): string {
  return tr('level', level);
}

/** The colours with the thresholds they stand for, e.g. "blue < 50 %, yellow > 50 %, orange > 70 %, red > 85 %". */
export function levelLegend(levels: readonly { name: string; above: number }[] = []): string {
  const first = levels[0]?.above;
  const label = (l: string) => {
    const level = levels.find((x) => x.name === l);
    return level ? `${levelLabel(l)} > ${level.above} %` : l === 'blue' && first !== undefined ? `${levelLabel(l)} ≤ ${first} %` : levelLabel(l);
  };
  return `<p class="legend" data-testid="fill-legend">${LEVELS.map((l) => `<span class="level level-${l}"><span aria-hidden="true">${tr('grade.shape', l)}</span> ${esc(label(l))}</span>`).join(' ')}</p>`;
}

function gaugeName(device: string, zone: string): string {
  const entry = deviceEntry(device);
  return entry ? named(entry.zone) : zone;
}

export function gaugesTable(d: DrainageResponseT): string {
  if (d.gauges.length === 0) return '';
  // The site's calendar day: "since 00:00 UTC+8", whatever zone the browser is in.
  const today = t('drain.rainTodaySince', { time: fmtClock(d.dayStart, currentLang(), d.timeZone) });
  const rows = d.gauges
    .map((g) => {
      const id = esc(g.device);
      const level = g.level
        ? `<span class="level level-${esc(g.level)}" data-testid="rain-${id}-level">${(LEVELS as readonly string[]).includes(g.level) ? `<span aria-hidden="true">${tr('grade.shape', g.level)}</span> ` : ''}${esc(levelLabel(g.level) === g.level ? tr('severity', g.level) : levelLabel(g.level))}</span>`
        : `<span class="muted" data-testid="rain-${id}-level">${esc(t('drain.levelNone'))}</span>`;
      return `<tr><td><a href="#/history/${id}/rain_mm">${esc(gaugeName(g.device, g.zone))}</a></td><td class="num" data-testid="rain-${id}-1h">${fmt(g.rain1hMm)}</td><td class="num" data-testid="rain-${id}-24h">${fmt(g.rain24hMm)}</td><td class="num" data-testid="rain-${id}-today">${fmt(g.rainTodayMm)}</td><td>${level}</td></tr>`;
    })
    .join('');
  return `<section class="drain-block" data-testid="rain-gauges"><h3>${esc(t('drain.gauges'))} (mm)</h3><p class="muted small" data-testid="rain-today-since">${esc(today)}</p><div class="table-wrap"><table class="table rain-table"><thead><tr><th></th><th class="num">${esc(t('drain.rain1h'))}</th><th class="num">${esc(t('drain.rain24h'))}</th><th class="num" title="${esc(today)}">${esc(t('drain.rainToday'))}</th><th>${esc(t('drain.level'))}</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

export function highWaterList(d: DrainageResponseT): string {
  const help = t('drain.highWaterHelp', { fill: d.highWaterRule.fillPct, hours: d.highWaterRule.hours, rain: d.highWaterRule.dryRainMm });
  const items =
    d.highWater.length === 0
      ? `<li class="muted">${esc(t('drain.noHighWater'))}</li>`
      : d.highWater
          .map(
            (p) =>
              `<li class="high-water" data-testid="high-water-${esc(p.device)}"><a href="#/history/${esc(p.device)}/fill?range=7d">${esc(gaugeName(p.device, p.zone))}</a> <span class="muted">${esc(t('drain.minFill', { fill: fmt(p.minFill, 0), hours: p.hours }))}</span></li>`,
          )
          .join('');
  return `<section class="drain-block"><h3>${esc(t('drain.highWater'))}</h3><p class="muted small">${esc(help)}</p><ul class="plain" data-testid="high-water-list">${items}</ul></section>`;
}

/** Whether a site has anything for the drainage view: pipes with fill or rain gauges in drain zones. */
export function hasDrainage(site: { zones: { kind: string }[] }): boolean {
  return site.zones.some((z) => z.kind === 'drain');
}
