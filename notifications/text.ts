import type { Language } from '../core/local-text.js';

/** The words of a notification, in English and Simplified Chinese. */
const en = {
  severity: { critical: 'Critical', warning: 'Warning', info: 'Info' },
  reason: {
    raised: 'raised',
    escalated: 'escalated',
    repeat: 'still not acknowledged',
    escalate: 'not acknowledged since {since}',
    cleared: 'cleared',
  },
  where: 'Where',
  value: 'Value',
  level_: 'Level',
  time: 'Time',
  open: 'Open on the dashboard',
  alerts: '{n} alerts',
  more: '… and {n} more on the dashboard',
  testTitle: 'farmwatch test message',
  testText: 'Channel "{channel}" works: {user} sent this test from the dashboard at {time}.',
};

const zh: typeof en = {
  severity: { critical: '严重', warning: '警告', info: '提示' },
  reason: { raised: '触发', escalated: '升级', repeat: '仍未确认', escalate: '自 {since} 起未确认', cleared: '已解除' },
  where: '位置',
  value: '数值',
  level_: '等级',
  time: '时间',
  open: '在监控平台查看',
  alerts: '{n} 条告警',
  more: '……另有 {n} 条，请在监控平台查看',
  testTitle: 'farmwatch 测试消息',
  testText: '通道 "{channel}" 可用：{user} 于 {time} 从监控平台发送了这条测试消息。',
};

export type Words = typeof en;

export function words(lang: Language): Words {
  return lang === 'zh-CN' ? zh : en;
}

export function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (vars[name] === undefined ? whole : String(vars[name])));
}
