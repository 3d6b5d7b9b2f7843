import type uPlot from 'uplot';

/**
 * uPlot's time axis in the reader's language and the site's zone, on a 24-hour clock: "14:00", and the date where a
 * day starts or ticks are days apart ("Nov 30", "11月30日"), instead of uPlot's English "4pm" and "11/29/26".
 */
const formats = new Map<string, Intl.DateTimeFormat>();

export function dateFormat(lang: string, timeZone: string, style: 'time' | 'date' | 'full'): Intl.DateTimeFormat {
  const key = `${lang}|${timeZone}|${style}`;
  let f = formats.get(key);
  if (!f) {
    const options: Intl.DateTimeFormatOptions =
      style === 'time'
        ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
        : style === 'date'
          ? { month: 'short', day: 'numeric' }
          : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    formats.set(key, (f = new Intl.DateTimeFormat(lang, { ...options, timeZone })));
  }
  return f;
}

export function timeAxisValues(
  lang: string,
  timeZone: string,
): (u: uPlot, splits: number[], axisIdx: number, foundSpace: number, foundIncr: number) => string[] {
  return (_u, splits, _i, _space, incr) =>
    splits.map((sec) => {
      const ms = sec * 1000;
      const time = dateFormat(lang, timeZone, 'time').format(ms);
      return incr >= 86_400 || time === '00:00' ? dateFormat(lang, timeZone, 'date').format(ms) : time;
    });
}
