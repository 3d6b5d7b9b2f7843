import { clockTime, siteTimeZone } from '../core/clock-text.js';
import type { AlertEvent, HolderView } from '../core/domain.js';
import { applied, decide, desired, holdOf, operatorHold, type Hold, type LedgerEntry, type OperatorHold, type Want, reasonOf } from './actuators.js';
import { alertFor, clear, raise, systemFacts } from './alerts.js';
import { SYSTEM_HOLD, systemOwner, type EngineContext } from './context.js';
import type { Floors } from './floors.js';
import { formatReason, type CommandReason } from './holders.js';

/**
 * From holds to commands: after holds changed, re-decide the floors of the zones involved, command what the
 * holders now want, and announce what changed: who holds the actuator (FarmBus `actuatorHolders`) and, when an
 * operator's hold goes against a rule that holds the actuator the other way (a fan held off while ammonia is
 * high), an alert (`system:hold`) that lasts as long as the override does.
 */
export interface Actuation {
  /**
   * Settles actuators whose holds changed, each with the reason a command carries when no holder decides (it
   * goes back to off: what released it), and the zones whose floors may have changed (a rule of the zone fired).
   */
  settle(changes: Iterable<[LedgerEntry, CommandReason | undefined]>, now: number, zones?: Iterable<{ site: string; zone: string }>): void;
  /** Who holds an actuator, deciding holder first. */
  holders(entry: LedgerEntry): HolderView[];
}

type Deps = Pick<EngineContext, 'farm' | 'bus' | 'book' | 'dispatcher' | 'config'> & {
  floors: Floors;
  emitAlert(event: AlertEvent): void;
  /** Place names in Chinese (Carrier.namesZh), for the hold alert's clearing text. */
  namesZh(site: string, zone: string, device?: string): Record<'site' | 'zone' | 'device', string>;
};

const RANK: Record<Hold['kind'], number> = { failsafe: 0, floor: 1, operator: 2, rule: 3 };
const isOn = (w: Want) => w.action !== 'off';

export function wantText(w: Want): string {
  return w.action === 'set' ? `at ${w.value ?? 0} %` : w.action;
}

/** "held off by ops until 14:30 GMT+8", in the site's time zone. */
export function holdText(h: Pick<OperatorHold, 'want' | 'user' | 'until'>, site: object | undefined, now: number): string {
  return `held ${wantText(h.want)} by ${h.user} until ${clockTime(h.until, { timeZone: siteTimeZone(site), now })}`;
}

export function holderView(h: Hold, decides: boolean): HolderView {
  const base = { action: h.want.action, ...(h.want.action === 'set' ? { value: h.want.value ?? 0 } : {}), since: h.since, decides };
  switch (h.kind) {
    case 'rule':
      return { kind: 'rule', rule: h.rule, ...(h.sensor ? { sensor: h.sensor } : {}), ...base, metric: h.metric, reading: h.reading };
    case 'operator':
      return { kind: 'operator', user: h.user, ...base, until: h.until };
    case 'failsafe':
      return { kind: 'failsafe', zone: h.zone, ...base };
    case 'floor':
      return { kind: 'floor', floor: h.floor, rule: h.rule, ...base };
  }
}

export function createActuation(deps: Deps): Actuation {
  const announced = new Map<string, number>();

  function reconcile(entry: LedgerEntry, now: number, cause: CommandReason | undefined): void {
    const d = decide(entry, now);
    if (d.kind === 'none') {
      entry.deferUntil = entry.deferReason = undefined;
      return;
    }
    if (d.kind === 'defer') {
      entry.deferUntil = d.until;
      entry.deferReason = cause ?? entry.deferReason;
      return;
    }
    const dev = deps.farm.device(entry.device)!;
    // No holder and no cause: the actuator reported a state nobody asked for (e.g. on at start), which is drift.
    const why = d.hold ? reasonOf(d.hold) : (cause ?? entry.deferReason ?? { kind: 'auto', cause: 'drift' });
    deps.dispatcher.send(dev, d.action, d.value, formatReason(why), now);
    applied(entry, d, now);
    entry.deferReason = undefined;
  }

  function holders(entry: LedgerEntry): HolderView[] {
    const decider = entry.mode === 'auto' ? desired(entry).hold : undefined;
    return [...entry.holds.values()].sort((a, b) => RANK[a.kind] - RANK[b.kind] || a.since - b.since).map((h) => holderView(h, h === decider));
  }

  /** Raises or clears the alert for an operator's hold that overrides a rule holding the actuator the other way. */
  function checkOverride(entry: LedgerEntry, now: number): void {
    const dev = deps.farm.device(entry.device)!;
    const op = operatorHold(entry);
    const deciding = entry.mode === 'auto' && op !== undefined && desired(entry).hold === op;
    const against = deciding ? holdOf(entry, 'rule').filter((r) => isOn(r.want) !== isOn(op.want)) : [];
    const owner = systemOwner.hold(entry.device);
    const open = alertFor(deps.book, owner);
    if (against.length > 0 && op && !open) {
      const first = against[0];
      const site = deps.config.sites.find((s) => s.id === dev.site);
      const rules = [...new Set(against.map((r) => r.rule))];
      const fired = first.metric && first.reading !== null ? ` (${first.metric} ${Math.round(first.reading * 100) / 100})` : '';
      const message = `${entry.device} ${holdText(op, site, now)} while ${rules.join(', ')} ${rules.length > 1 ? 'want' : 'wants'} it ${wantText(first.want)}${fired}`;
      const detail = {
        kind: 'hold' as const,
        user: op.user,
        action: op.want.action,
        ...(op.want.value !== undefined ? { value: op.want.value } : {}),
        until: op.until,
        rules,
        want: first.want.action,
        ...(first.want.value !== undefined ? { wantValue: first.want.value } : {}),
      };
      const facts = {
        ...systemFacts({ rule: SYSTEM_HOLD, site: dev.site, zone: dev.zone, device: entry.device, severity: 'warning', message, detail }),
        value: first.reading,
        metric: first.metric,
      };
      deps.emitAlert(raise(deps.book, owner, facts, now));
    } else if (against.length === 0 && open) {
      const why = !op
        ? `the hold on ${entry.device} ended`
        : !deciding
          ? `${entry.device} is no longer held by ${op.user}'s command`
          : `no rule holds ${entry.device} the other way any more`;
      const name = deps.namesZh(dev.site, dev.zone, entry.device).device;
      const whyZh = !op ? `${name} 的保持已结束` : !deciding ? `${name} 不再由 ${op.user} 的指令保持` : `已没有规则要求 ${name} 处于相反状态`;
      const message = `cleared: ${why}`;
      const event = clear(deps.book, owner, { value: null, metric: null, message, messages: { en: message, zh: `已解除：${whyZh}` } }, now);
      if (event) deps.emitAlert(event);
    }
  }

  function announce(entry: LedgerEntry, now: number): void {
    if (announced.get(entry.device) !== entry.revision) {
      announced.set(entry.device, entry.revision);
      const d = deps.farm.device(entry.device)!;
      deps.bus.emit('actuatorHolders', { site: d.site, zone: d.zone, kind: d.kind, device: d.device, holders: holders(entry), ts: now });
    }
    checkOverride(entry, now);
  }

  return {
    settle(changes, now, zones = []) {
      const todo = new Map<LedgerEntry, CommandReason | undefined>(changes);
      const zoneKeys = new Map<string, { site: string; zone: string }>();
      for (const z of zones) zoneKeys.set(`${z.site}/${z.zone}`, z);
      for (const e of todo.keys()) {
        const d = deps.farm.device(e.device);
        if (d) zoneKeys.set(`${d.site}/${d.zone}`, { site: d.site, zone: d.zone });
      }
      for (const z of zoneKeys.values()) for (const [e, reason] of deps.floors.refresh(z.site, z.zone, now)) if (todo.get(e) === undefined) todo.set(e, reason);
      for (const [e, reason] of todo) {
        reconcile(e, now, reason);
        announce(e, now);
      }
    },
    holders,
  };
}
