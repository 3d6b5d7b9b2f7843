import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { RulesHandle } from '../rules/handle.js';
import { optional, serveApi, type ApiArgs } from './rpc.js';
import { rulesRequestTopic } from './service-topics.js';

/**
 * A rules process's RulesHandle, served to dashboards over MQTT request/response (cluster/rpc.ts) on
 * {root}/_svc/rpc/rules/{instance}; cluster/remote-rules.ts is the dashboard's side. The arguments of each method as
 * they arrive: the compiler holds them to RulesHandle's parameters, so a method added or changed there does not
 * compile here until its wire form is given.
 */
export const RULES_ARGS: ApiArgs<RulesHandle> = {
  rules: z.tuple([]),
  replaceRules: z.tuple([z.unknown()]),
  dryRun: z.tuple([z.unknown(), z.number(), z.number()]),
  activeAlerts: z.tuple([]),
  acknowledge: z.tuple([z.string(), z.string()]),
  actuators: z.tuple([]),
  command: z.tuple([
    z.string(),
    z.enum(['on', 'off', 'set']),
    optional(z.number()),
    z.string(),
    optional(z.object({ untilMs: optional(z.number()), forMs: optional(z.number()) })),
  ]),
  setMode: z.tuple([z.string(), z.enum(['auto', 'manual']), optional(z.number()), z.string()]),
};

export function serveRules(client: MqttClient, topicRoot: string, instance: string, rules: RulesHandle, logger: Logger) {
  return serveApi<RulesHandle>({ client, topic: rulesRequestTopic(topicRoot, instance), api: rules, args: RULES_ARGS, logger });
}
