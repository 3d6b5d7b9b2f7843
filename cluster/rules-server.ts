import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { CommandAction } from '../core/domain.js';
import type { RulesHandle } from '../rules/handle.js';
import { serveRpc } from './rpc.js';
import { rulesRequestTopic } from './service-topics.js';

/**
 * Serves a rules process's RulesHandle to dashboards over MQTT request/response (cluster/rpc.ts), on
 * {root}/_svc/rpc/rules/{instance}. JSON has no `undefined`: optional arguments arrive as null and are
 * turned back here, so the engine validates them exactly as for a local caller.
 */
export function serveRules(client: MqttClient, topicRoot: string, instance: string, rules: RulesHandle, logger: Logger) {
  const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
  return serveRpc({
    client,
    topic: rulesRequestTopic(topicRoot, instance),
    logger,
    handlers: {
      rules: () => rules.rules(),
      replaceRules: (raw: unknown) => rules.replaceRules(raw),
      dryRun: (raw: unknown, from: number, to: number) => rules.dryRun(raw, from, to),
      activeAlerts: () => rules.activeAlerts(),
      acknowledge: (alertId: string, user: string) => rules.acknowledge(alertId, user),
      actuators: () => rules.actuators(),
      command: (deviceId: string, action: CommandAction, value: number | null, user: string, request: { untilMs?: number | null; forMs?: number | null } | null) =>
        rules.command(deviceId, action, opt(value), user, { untilMs: opt(request?.untilMs), forMs: opt(request?.forMs) }),
      setMode: (deviceId: string, mode: 'auto' | 'manual', untilMs: number | null, user: string) => rules.setMode(deviceId, mode, opt(untilMs), user),
    },
  });
}
