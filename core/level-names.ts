import type { Language } from './local-text.js';

/**
 * A rule's grade name (`levels[].name`) as a reader of each language says it, for `{level}` in alert messages: the
 * four colours of China's warning signals (蓝色 … 红色, CMA Order No. 16, 2007), the 24 h rain classes of GB/T 28592
 * (暴雨, 大暴雨, 特大暴雨), the heat-stress bands and the severities. A name not listed here is the farm's own word and
 * stays as the rule gives it. Pure and free of imports, so the page can share it.
 */
const ZH: Readonly<Record<string, string>> = {
  blue: '蓝色',
  yellow: '黄色',
  orange: '橙色',
  red: '红色',
  rainstorm: '暴雨',
  'heavy-rainstorm': '大暴雨',
  'extraordinary-rainstorm': '特大暴雨',
  mild: '轻度',
  moderate: '中度',
  severe: '重度',
  extreme: '极端',
  info: '提示',
  warning: '警告',
  critical: '严重',
};

export function levelName(level: string, lang: Language): string {
  return lang === 'zh-CN' ? (ZH[level] ?? level) : level;
}
