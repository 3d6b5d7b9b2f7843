import type { AlertEvent } from '../core/domain.js';
import { localText, type Language } from '../core/local-text.js';
import { levelName } from '../core/level-names.js';
import { metricName } from '../core/metric-names.js';
import { METRICS } from '../core/metrics-catalog.js';
import type { SendReason } from './lifecycle.js';
import { formatSiteTime } from './local-time.js';
import { fill, words } from './text.js';

/**
 * The text of one notification (pure): one alert, or a site's alerts grouped, in the site's language, with the
 * site-local time, the value with its unit, the level, the site's and zone's names, and a link to the alert.
 * Channels send `title` plus `text` (email, webhook) or `markdown` (DingTalk, WeCom robots).
 */
export interface MessageItem {
  reason: SendReason;
  alert: AlertEvent;
  /** When notifications about the alert began (for "not acknowledged since ..."). */
  since: number;
}

export interface MessageContext {
  language: Language;
  timeZone: string;
  /** The dashboard's address as users reach it (PUBLIC_URL); without it messages carry no link. */
  publicUrl?: string;
  siteName: string;
  zoneName(zone: string): string;
  deviceName(device: string): string;
}

export interface RenderedMessage {
  language: Language;
  title: string;
  text: string;
  markdown: string;
}

/** A grouped message lists at most this many alerts (a robot message is limited to a few KB). */
export const MAX_LISTED = 20;

export function alertLink(publicUrl: string | undefined, alertId: string): string | undefined {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/#/alerts?alert=${encodeURIComponent(alertId)}` : undefined;
}

const round = (v: number) => String(Math.round(v * 100) / 100);

function valueText(a: AlertEvent, lang: Language): string | undefined {
  if (a.value === null || a.value === undefined) return undefined;
  const unit = a.metric ? METRICS[a.metric]?.unit : undefined;
  const metric = a.metric ? metricName(a.metric, lang) : undefined;
  return [metric, round(a.value), unit].filter(Boolean).join(' ');
}

function levelText(a: AlertEvent, lang: Language): string | undefined {
  return a.level ? levelName(a.level, lang) : undefined;
}

function head(item: MessageItem, ctx: MessageContext): string {
  const w = words(ctx.language);
  const reason = fill(w.reason[item.reason], { since: formatSiteTime(item.since, ctx.timeZone, false) });
  return ctx.language === 'zh-CN' ? `【${w.severity[item.alert.severity]}·${reason}】` : `[${w.severity[item.alert.severity]} · ${reason}]`;
}

function alertMessage(a: AlertEvent, lang: Language): string {
  return localText(a.messages ?? a.message, lang);
}

function where(a: AlertEvent, ctx: MessageContext): string {
  const device = a.device ? ` (${ctx.deviceName(a.device)})` : '';
  return `${ctx.siteName} / ${ctx.zoneName(a.zone)}${device}`;
}

function single(item: MessageItem, ctx: MessageContext): RenderedMessage {
  const w = words(ctx.language);
  const a = item.alert;
  const sep = ctx.language === 'zh-CN' ? '：' : ': ';
  const title = `${head(item, ctx)} ${ctx.zoneName(a.zone)}${sep}${alertMessage(a, ctx.language)}`;
  const link = alertLink(ctx.publicUrl, a.id);
  const rows: [string, string | undefined][] = [
    [w.where, where(a, ctx)],
    [w.value, valueText(a, ctx.language)],
    [w.level_, levelText(a, ctx.language)],
    [w.time, formatSiteTime(a.ts, ctx.timeZone)],
  ];
  const present = rows.filter((r): r is [string, string] => r[1] !== undefined);
  const text = [title, ...present.map(([k, v]) => `${k}${sep}${v}`), ...(link ? [`${w.open}${sep}${link}`] : [])].join('\n');
  const markdown = [`### ${title}`, '', ...present.map(([k, v]) => `- **${k}**${sep}${v}`), ...(link ? ['', `[${w.open}](${link})`] : [])].join('\n');
  return { language: ctx.language, title, text, markdown };
}

function grouped(items: MessageItem[], ctx: MessageContext): RenderedMessage {
  const w = words(ctx.language);
  const sep = ctx.language === 'zh-CN' ? '：' : ': ';
  const worst = items.map((i) => i.alert.severity).sort((a, b) => rank(a) - rank(b))[0];
  const title = `${ctx.language === 'zh-CN' ? `【${w.severity[worst]}】` : `[${w.severity[worst]}]`} ${ctx.siteName}${sep}${fill(w.alerts, { n: items.length })}`;
  const listed = items.slice(0, MAX_LISTED);
  const line = (i: MessageItem, md: boolean) => {
    const a = i.alert;
    const link = alertLink(ctx.publicUrl, a.id);
    const parts = [
      `${head(i, ctx)} ${ctx.zoneName(a.zone)}${sep}${alertMessage(a, ctx.language)}`,
      valueText(a, ctx.language),
      levelText(a, ctx.language),
      formatSiteTime(a.ts, ctx.timeZone),
    ].filter(Boolean);
    const body = parts.join(' · ');
    return md ? `- ${body}${link ? ` [${w.open}](${link})` : ''}` : `- ${body}${link ? ` ${link}` : ''}`;
  };
  const rest = items.length > listed.length ? [fill(w.more, { n: items.length - listed.length })] : [];
  const text = [title, ...listed.map((i) => line(i, false)), ...rest].join('\n');
  const markdown = [`### ${title}`, '', ...listed.map((i) => line(i, true)), ...rest].join('\n');
  return { language: ctx.language, title, text, markdown };
}

const rank = (s: AlertEvent['severity']) => ({ critical: 0, warning: 1, info: 2 })[s];

/** One message for one or more alerts of one site, worst first. */
export function composeMessage(items: MessageItem[], ctx: MessageContext): RenderedMessage {
  if (items.length === 1) return single(items[0], ctx);
  return grouped(
    [...items].sort((a, b) => rank(a.alert.severity) - rank(b.alert.severity) || a.alert.ts - b.alert.ts),
    ctx,
  );
}

/** A channel test (POST /api/channels/:id/test): in both languages, since a channel has no site. */
export function testMessage(channel: string, user: string, now: number, timeZone: string): RenderedMessage {
  const time = formatSiteTime(now, timeZone);
  const en = words('en');
  const zh = words('zh-CN');
  const title = `${en.testTitle} / ${zh.testTitle}`;
  const text = [title, fill(en.testText, { channel, user, time }), fill(zh.testText, { channel, user, time })].join('\n');
  return {
    language: 'en',
    title,
    text,
    markdown: [`### ${title}`, '', fill(en.testText, { channel, user, time }), '', fill(zh.testText, { channel, user, time })].join('\n'),
  };
}
