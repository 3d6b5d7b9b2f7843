import { startOfLocalDay, zoneLabel } from '../../core/site-time.js';
/** Small DOM helpers for the page: escaping, number and time formatting, a toast. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function $(selector: string, root: ParentNode = document): HTMLElement | null {
  return root.querySelector<HTMLElement>(selector);
}

export function $$(selector: string, root: ParentNode = document): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(selector));
}

/** Readings to a sensible precision: 1 decimal below 100, none above. */
export function fmt(value: number | undefined, digits?: number): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : 1);
  return value.toFixed(d);
}

/**
 * A time as the site tells it (SPEC: times shown are in the site's zone and say which): "13:51:02 UTC+8", or with
 * the date when it is not today there, "Nov 29, 13:51 UTC+8". Never the browser's or the server's zone.
 */
export function fmtTime(ts: number | undefined, lang: string, timeZone = 'UTC'): string {
  if (!ts) return '—';
  const sameDay = startOfLocalDay(timeZone, Date.now()) === startOfLocalDay(timeZone, ts);
  const options: Intl.DateTimeFormatOptions = sameDay
    ? { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }
    : { timeZone, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  return `${new Intl.DateTimeFormat(lang, options).format(ts)} ${zoneLabel(timeZone, ts)}`;
}

/** A wall-clock time of day at the site, with its zone: "00:00 UTC+8". */
export function fmtClock(ts: number, lang: string, timeZone = 'UTC'): string {
  return `${new Intl.DateTimeFormat(lang, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ts)} ${zoneLabel(timeZone, ts)}`;
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;

export function toast(message: string, kind: 'error' | 'info' = 'error'): void {
  let el = $('#toast');
  if (!el) {
    el = document.createElement('div');
    el.id = 'toast';
    el.setAttribute('role', 'status');
    el.dataset.testid = 'toast';
    document.body.append(el);
  }
  el.textContent = message;
  el.className = `toast toast-${kind} show`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el?.classList.remove('show'), 5000);
}
