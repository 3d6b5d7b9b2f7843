import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { FarmMetrics } from '../core/observability.js';
import { z } from 'zod';
import type { NotificationsHandle } from '../notifications/handle.js';
import type { MembersView } from './membership.js';
import { memberCalls } from './member-calls.js';
import { optional, serveApi, type ApiArgs, type RpcClient } from './rpc.js';
import { notificationsRequestTopic } from './service-topics.js';

/**
 * Notifications in a split deployment: they run next to the alerts, in each rules process (app/parts/rules.ts),
 * each for its own sites with its own journal. A rules process serves its NotificationsHandle on
 * {root}/_svc/rpc/notifications/{instance}; the dashboard's handle asks them all:
 * - a silence is created and ended in every rules process, under one id made here (a silence by rule alone spans
 *   sites), so lists merge by id and a retried create does not make two;
 * - deliveries are gathered from every process and merged, newest first;
 * - a channel test goes to one process (every process has every channel).
 */
type Notifications = NotificationsHandle;
const Text = z.string().max(1000);

/** The arguments of each method as they arrive, held by the compiler to NotificationsHandle's parameters. */
export const NOTIFICATIONS_ARGS: ApiArgs<Notifications> = {
  silences: z.tuple([optional(z.boolean())]),
  addSilence: z.tuple([
    z.object({
      id: optional(Text),
      match: z.object({ site: optional(Text), zone: optional(Text), device: optional(Text), rule: optional(Text) }),
      startsAt: optional(z.number()),
      endsAt: z.number(),
      reason: Text,
    }),
    Text,
  ]),
  endSilence: z.tuple([Text, Text]),
  deliveries: z.tuple([
    z.object({ alert: optional(Text), channel: optional(Text), from: optional(z.number()), to: optional(z.number()), limit: optional(z.number()) }),
  ]),
  testChannel: z.tuple([Text, Text]),
};

export function serveNotifications(client: MqttClient, topicRoot: string, instance: string, handle: NotificationsHandle, logger: Logger) {
  return serveApi<Notifications>({ client, topic: notificationsRequestTopic(topicRoot, instance), api: handle, args: NOTIFICATIONS_ARGS, logger });
}

export function createRemoteNotifications(deps: { rpc: RpcClient; members: MembersView; topicRoot: string; metrics: FarmMetrics }): NotificationsHandle {
  const { call, everyone, all } = memberCalls<Notifications>(
    deps,
    (instance) => notificationsRequestTopic(deps.topicRoot, instance),
    'no rules process is connected to the broker, and notifications run in the rules processes: start one (npm start -- --only rules)',
  );
  const byId = <T extends { id: string }>(lists: T[][]): T[] => [...new Map(lists.flat().map((x) => [x.id, x])).values()];

  return {
    silences: async (includeEnded = false) => byId(await all('silences', includeEnded)).sort((a, b) => a.endsAt - b.endsAt),
    async addSilence(input, user) {
      const made = await all('addSilence', { ...input, id: input.id ?? `sil-${randomUUID().slice(0, 8)}` }, user);
      return made[0];
    },
    async endSilence(id, user) {
      // Processes that do not hold the silence answer nothing (null over JSON).
      const ended = await all('endSilence', id, user);
      return ended.find((s) => s) ?? undefined;
    },
    async deliveries(q) {
      const lists = await all('deliveries', q);
      // Delivery ids are per process: the instance keeps them apart.
      return lists
        .flatMap((list, i) => list.map((d) => ({ ...d, id: `${everyone()[i]?.instance ?? i}:${d.id}` })))
        .sort((a, b) => b.ts - a.ts)
        .slice(0, q.limit ?? 500);
    },
    testChannel: (channel, user) => call(everyone()[0], 'testChannel', channel, user),
  };
}
