import type { RulesEngine } from '../rules/engine.js';
import type { LocalRulesHandle } from '../rules/handle.js';

/**
 * The rules engine behind a handle that stays the same when the engine is replaced (a reload of the farm file
 * restarts it on the new farm): the dashboard and the notifications keep the handle, each call goes to the engine
 * running now.
 */
export function switchableRules(initial: RulesEngine): { handle: LocalRulesHandle; current(): RulesEngine; swap(next: RulesEngine): void } {
  let engine = initial;
  const handle: LocalRulesHandle = {
    rules: () => engine.rules(),
    replaceRules: (raw) => engine.replaceRules(raw),
    dryRun: (raw, from, to) => engine.dryRun(raw, from, to),
    activeAlerts: () => engine.activeAlerts(),
    acknowledge: (alertId, user) => engine.acknowledge(alertId, user),
    actuators: () => engine.actuators(),
    command: (deviceId, action, value, user, request) => engine.command(deviceId, action, value, user, request),
    setMode: (deviceId, mode, untilMs, user) => engine.setMode(deviceId, mode, untilMs, user),
  };
  return {
    handle,
    current: () => engine,
    swap(next) {
      engine = next;
    },
  };
}
