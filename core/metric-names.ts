import type { Language } from './local-text.js';

/**
 * A metric as a reader of each language names it, for alert texts and notifications (`{metric}`, the value line).
 * A metric not listed (a farm's own) is called by its id. Pure and free of imports but a type, so the page can share it.
 */
const NAMES: Readonly<Record<Language, Readonly<Record<string, string>>>> = {
  en: {
    temperature: 'temperature',
    humidity: 'humidity',
    nh3: 'NH₃',
    h2s: 'H₂S',
    co2: 'CO₂',
    soil_moisture: 'soil moisture',
    soil_temperature: 'soil temperature',
    light: 'light',
    water_level: 'water level',
    fill: 'fill',
    flow: 'flow',
    rain_mm: 'rain',
    thi: 'THI',
  },
  'zh-CN': {
    temperature: '温度',
    humidity: '湿度',
    nh3: '氨气',
    h2s: '硫化氢',
    co2: '二氧化碳',
    soil_moisture: '土壤湿度',
    soil_temperature: '土壤温度',
    light: '光照',
    water_level: '水位',
    fill: '充满度',
    flow: '流量',
    rain_mm: '降雨',
    thi: '温湿指数',
  },
};

export function metricName(metric: string, lang: Language): string {
  return NAMES[lang][metric] ?? metric;
}
