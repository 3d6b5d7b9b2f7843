import { siteTimeZone } from '../../core/clock-text.js';
import { startOfLocalDay } from '../../core/site-time.js';
import type { ActuatorInfoT } from '../schemas.js';
import { fmt, fmtClock, fmtTime } from './dom.js';
import { currentLang, t, tr } from './i18n.js';

/**
 * What an actuator card says about who holds it ("why is this on?"): the operator's hold with its end ("held off
 * by ops until 14:30 UTC") and the other holders (the rule with the reading that fired it and when, fail-safe,
 * floor). Times are in the site's zone and say which. Pure apart from the language setting.
 */
type HolderT = ActuatorInfoT['holders'][number];

export interface HolderLine {
  kind: HolderT['kind'];
  text: string;
  decides: boolean;
}

function what(h: Pick<HolderT, 'action' | 'value'>): string {
  return h.action === 'set' ? t('hold.what.set', { value: fmt(h.value, 0) }) : t(`hold.what.${h.action}`);
}

export function holderLines(holders: readonly HolderT[], site: object | undefined, now = Date.now()): HolderLine[] {
  const zone = siteTimeZone(site);
  // "14:30 UTC+8", with the date when it is not today at the site: as every other time on the page.
  const at = (ts: number) => (startOfLocalDay(zone, ts) === startOfLocalDay(zone, now) ? fmtClock(ts, currentLang(), zone) : fmtTime(ts, currentLang(), zone));
  const decider = holders.find((h) => h.decides);
  return holders.map((h): HolderLine => {
    switch (h.kind) {
      case 'operator': {
        const held = t('hold.by', { what: what(h), user: h.user, until: at(h.until) });
        const over = !h.decides && decider ? ` (${t('hold.overridden', { by: lineOf(decider, at) })})` : '';
        return { kind: h.kind, text: held + over, decides: h.decides };
      }
      default:
        return { kind: h.kind, text: lineOf(h, at), decides: h.decides };
    }
  });
}

function lineOf(h: HolderT, at: (ts: number) => string): string {
  switch (h.kind) {
    case 'rule':
      return h.metric && h.reading !== null
        ? t('why.rule', { rule: h.rule, metric: tr('metric', h.metric), reading: fmt(h.reading), time: at(h.since) })
        : t('why.ruleSince', { rule: h.rule, time: at(h.since) });
    case 'operator':
      return t('hold.by', { what: what(h), user: h.user, until: at(h.until) });
    case 'failsafe':
      return t('why.failsafe', { zone: h.zone, time: at(h.since) });
    case 'floor':
      return t('why.floor', { floor: h.floor, rule: h.rule });
  }
}
