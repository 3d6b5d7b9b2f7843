import { clockTime } from '../core/clock-text.js';
import type { ActuatorType, AlertDetail, CommandAction } from '../core/domain.js';

/**
 * The Chinese text of a built-in alert (not responding, fail-safe, operator hold, missing animal, head count),
 * written from its `detail`, so a zh-CN site's notifications say it in Chinese (the `message` is English). The
 * dashboard writes the same sentences from the same facts (dashboard/ui/messages.ts, `sys.*`). Pure.
 */
export interface SystemTextNames {
  /** The alert's zone and device as people call them in Chinese (the farm file's zh names, else the ids). */
  zone: string;
  device: string;
  /** A missing animal's last read: the reader and its zone, named the same way. */
  lastReader?: string;
  lastZone?: string;
  timeZone: string;
  now: number;
}

const TYPE: Record<ActuatorType, string> = { fan: '风机', spray: '喷雾', shutter: '卷帘', pump: '水泵', valve: '阀门' };

function action(a: CommandAction, value?: number): string {
  return a === 'set' ? `在 ${value ?? 0}%` : a === 'on' ? '开启' : '关闭';
}

/** "10分钟", "6小时", "1天": whole units where they fit, as the page's Intl durations read in Chinese. */
export function durationZh(ms: number): string {
  if (ms >= 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000}天`;
  if (ms >= 3_600_000) return `${Math.round((ms / 3_600_000) * 10) / 10}小时`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)}分钟`;
  return `${Math.round(ms / 1000)}秒`;
}

export function systemTextZh(d: AlertDetail, n: SystemTextNames): string {
  switch (d.kind) {
    case 'actuator':
      return `执行器无响应：${n.device} 尝试 ${d.attempts} 次仍未确认“${action(d.action, d.value)}”指令`;
    case 'failsafe':
      return `${n.zone}传感器已 ${durationZh(d.afterMs)} 无数据：失效保护 ${d.actuators.map((a) => `${TYPE[a.type]}${a.action === 'on' ? '开' : '关'}`).join('、')}`;
    case 'hold':
      return `${n.device} 由 ${d.user} 保持${action(d.action, d.value)}至 ${clockTime(d.until, { timeZone: n.timeZone, lang: 'zh-CN', now: n.now })}，而规则 ${d.rules.join('、')} 要求${action(d.want, d.wantValue)}`;
    case 'animal-missing': {
      const who = d.group ? `${d.tag}（${d.group}）` : d.tag;
      const last = d.last
        ? `最后一次由 ${n.lastReader ?? d.last.device} 在${n.lastZone ?? d.last.zone}读到，${durationZh(d.last.agoMs)}前`
        : '登记后从未被读到';
      return `羊只失踪：${n.zone}的 ${who} 已 ${durationZh(d.missingAfterMs)} 未被读到；${last}`;
    }
    case 'head-count': {
      const diff = d.counted - d.expected;
      const what = diff < 0 ? `少 ${-diff} 只` : `多 ${diff} 只`;
      return `${n.zone}存栏 ${d.counted}，应为 ${d.expected}（${what}），已超过 ${durationZh(d.graceMs)}${d.out > 0 ? `；${d.out} 只在外放牧` : ''}`;
    }
  }
}

/** A built-in alert's clearing text in Chinese: its raising text, marked cleared (the reason is in the English one). */
export function clearedZh(raisedZh: string): string {
  return raisedZh.startsWith('已解除：') ? raisedZh : `已解除：${raisedZh}`;
}
