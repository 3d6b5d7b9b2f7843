/**
 * Column headers of the CSV exports in the user's language (`?lang=`, else the Accept-Language header).
 * Cells stay machine-readable (ids, enum values, numbers); only the header is translated.
 */
export type ExportLang = 'en' | 'zh';

export function exportLang(lang: string | undefined, acceptLanguage: string | undefined): ExportLang {
  const choice = (lang ?? acceptLanguage ?? '').trim().toLowerCase();
  return choice.startsWith('zh') ? 'zh' : 'en';
}

const HEADERS = {
  time: { en: 'time', zh: '时间' },
  site: { en: 'site', zh: '站点' },
  zone: { en: 'zone', zh: '区域' },
  device: { en: 'device', zh: '设备' },
  metric: { en: 'metric', zh: '指标' },
  value: { en: 'value', zh: '数值' },
  unit: { en: 'unit', zh: '单位' },
  mean: { en: 'mean', zh: '平均值' },
  min: { en: 'min', zh: '最小值' },
  max: { en: 'max', zh: '最大值' },
  count: { en: 'count', zh: '读数个数' },
  sum: { en: 'sum', zh: '合计' },
  rule: { en: 'rule', zh: '规则' },
  severity: { en: 'severity', zh: '严重程度' },
  level: { en: 'level', zh: '等级' },
  state: { en: 'state', zh: '状态' },
  message: { en: 'message', zh: '内容' },
  by: { en: 'by', zh: '操作人' },
  alert: { en: 'alert id', zh: '告警编号' },
} as const;

export type Column = keyof typeof HEADERS;

/** The header cells; the time column names the time zone when every row is in the same one. */
export function headerCells(columns: readonly Column[], lang: ExportLang, timeZone?: string): string[] {
  return columns.map((c) => (c === 'time' && timeZone ? `${HEADERS.time[lang]} (${timeZone})` : HEADERS[c][lang]));
}
