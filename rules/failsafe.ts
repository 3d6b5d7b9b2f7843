import type { ActuatorType } from '../core/domain.js';
import { formatDuration } from '../core/duration.js';
import { hold, release } from './actuators.js';
import { alertFor, clear, raise, systemFacts } from './alerts.js';
import { SYSTEM_FAILSAFE, systemOwner, type EngineContext } from './context.js';
import { touchedBy, type Carrier } from './effects.js';
import type { LedgerEntry } from './actuators.js';

/**
 * zone.failsafe (config schema): when every sensor of a zone has been silent for `after`, its actuators
 * go to the configured state (e.g. fans on: ventilating blind is safer for the animals than not
 * ventilating), held by the `failsafe` holder, which outranks rules while it lasts. The first reading
 * from any of the zone's sensors ends it. "Climate sensors" are all sensors of the zone: a shed's sensors
 * are its climate sensors.
 */
interface Watch {
  site: string;
  zone: string;
  owner: string;
  sensors: string[];
  afterMs: number;
  actuators: [ActuatorType, 'on' | 'off'][];
  active: boolean;
}

export interface Failsafe {
  tick(now: number): void;
  heard(device: string, now: number): void;
  /** After restart: a fail-safe alert still open means the zone is still in fail-safe. */
  adoptOpen(now: number): void;
  activeZones(): string[];
}

export function createFailsafe(ctx: Pick<EngineContext, 'book' | 'farm' | 'lastSeen' | 'ledger' | 'logger' | 'startedAt'>, carrier: Carrier): Failsafe {
  const watches: Watch[] = [];
  const bySensor = new Map<string, Watch>();
  for (const z of ctx.farm.zones()) {
    const fs = z.config.failsafe;
    const sensors = z.devices.filter((d) => d.role === 'sensor').map((d) => d.device);
    if (!fs || sensors.length === 0) continue;
    const w: Watch = {
      site: z.site,
      zone: z.zone,
      owner: systemOwner.failsafe(z.site, z.zone),
      sensors,
      afterMs: fs.after,
      actuators: Object.entries(fs.actuators) as [ActuatorType, 'on' | 'off'][],
      active: false,
    };
    watches.push(w);
    for (const s of sensors) bySensor.set(s, w);
  }

  function apply(w: Watch, now: number, on: boolean): void {
    const touched: LedgerEntry[] = [];
    for (const [type, action] of w.actuators) {
      for (const d of ctx.farm.actuators(w.site, w.zone, type)) {
        const entry = ctx.ledger.get(d.device);
        if (!entry) continue;
        const holder = { kind: 'failsafe', site: w.site, zone: w.zone } as const;
        if (on) hold(entry, { ...holder, since: now, want: { action } });
        else release(entry, holder);
        touched.push(entry);
      }
    }
    carrier.settle(touchedBy(touched, { kind: 'failsafe', zone: w.zone }), now, [w]);
  }

  function enter(w: Watch, now: number, announce: boolean): void {
    w.active = true;
    ctx.logger.warn({ site: w.site, zone: w.zone }, 'all sensors of the zone are silent: fail-safe state');
    apply(w, now, true);
    if (!announce || alertFor(ctx.book, w.owner)) return;
    const what = w.actuators.map(([type, action]) => `${type} ${action}`).join(', ');
    const message = `sensor offline: no reading from ${w.zone} for ${formatDuration(w.afterMs)}; fail-safe ${what}`;
    carrier.emitAlert(
      raise(
        ctx.book,
        w.owner,
        systemFacts({
          rule: SYSTEM_FAILSAFE,
          site: w.site,
          zone: w.zone,
          severity: 'critical',
          message,
          detail: { kind: 'failsafe', afterMs: w.afterMs, actuators: w.actuators.map(([type, action]) => ({ type, action })) },
        }),
        now,
      ),
    );
  }

  return {
    tick(now) {
      for (const w of watches) {
        if (w.active) continue;
        if (w.sensors.every((s) => now - (ctx.lastSeen.get(s) ?? ctx.startedAt) >= w.afterMs)) enter(w, now, true);
      }
    },
    heard(device, now) {
      const w = bySensor.get(device);
      if (!w?.active) return;
      w.active = false;
      ctx.logger.info({ site: w.site, zone: w.zone, device }, 'sensor reporting again: fail-safe ends');
      apply(w, now, false);
      const open = alertFor(ctx.book, w.owner);
      const names = carrier.namesZh(w.site, w.zone, device);
      const message = `cleared: readings back from ${device}, fail-safe ended in ${w.zone}`;
      const zh = `已解除：${names.device} 恢复上报，${names.zone}的失效保护已结束`;
      const event = open && clear(ctx.book, w.owner, { message, messages: { en: message, zh } }, now);
      if (event) carrier.emitAlert(event);
    },
    adoptOpen(now) {
      for (const w of watches) if (!w.active && alertFor(ctx.book, w.owner)) enter(w, now, false);
    },
    activeZones: () => watches.filter((w) => w.active).map((w) => `${w.site}/${w.zone}`),
  };
}
