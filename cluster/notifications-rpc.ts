import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { FarmMetrics } from '../core/observability.js';
import type { DeliveriesQuery, DeliveryView, NotificationsHandle, SilenceInput } from '../notifications/handle.js';
import type { Silence } from '../notifications/silences.js';
import { ClusterError } from './errors.js';
import type { MembersView } from './membership.js';
import type { RulesMember } from './partition.js';
import { serveRpc, type RpcClient } from './rpc.js';
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
export function serveNotifications(client: MqttClient, topicRoot: string, instance: string, handle: NotificationsHandle, logger: Logger) {
  return serveRpc({
    client,
    topic: notificationsRequestTopic(topicRoot, instance),
    logger,
    handlers: {
      silences: (includeEnded: boolean | null) => handle.silences(includeEnded ?? false),
      addSilence: (input: SilenceInput, user: string) => handle.addSilence(input, user),
      endSilence: (id: string, user: string) => handle.endSilence(id, user),
      deliveries: (q: DeliveriesQuery) => handle.deliveries(q),
      testChannel: (channel: string, user: string) => handle.testChannel(channel, user),
    },
  });
}

export function createRemoteNotifications(deps: { rpc: RpcClient; members: MembersView; topicRoot: string; metrics: FarmMetrics }): NotificationsHandle {
  const call = async <T>(member: RulesMember, method: string, args: unknown[]): Promise<T> => {
    try {
      const value = (await deps.rpc.call(notificationsRequestTopic(deps.topicRoot, member.instance), method, args, `rules process ${member.instance}`)) as T;
      deps.metrics.rpcCalls.inc({ method, outcome: 'ok' });
      return value;
    } catch (err) {
      deps.metrics.rpcCalls.inc({ method, outcome: err instanceof ClusterError ? 'unavailable' : 'error' });
      throw err;
    }
  };
  const everyone = (): RulesMember[] => {
    const list = deps.members.members();
    if (list.length === 0) throw new ClusterError('RULES_UNAVAILABLE', 'no rules process is connected to the broker, and notifications run in the rules processes: start one (npm start -- --only rules)');
    return list;
  };
  const all = <T>(method: string, args: unknown[]) => Promise.all(everyone().map((m) => call<T>(m, method, args)));
  const byId = <T extends { id: string }>(lists: T[][]): T[] => [...new Map(lists.flat().map((x) => [x.id, x])).values()];

  return {
    silences: async (includeEnded = false) => byId(await all<Silence[]>('silences', [includeEnded])).sort((a, b) => a.endsAt - b.endsAt),
    async addSilence(input, user) {
      const made = await all<Silence>('addSilence', [{ ...input, id: input.id ?? `sil-${randomUUID().slice(0, 8)}` }, user]);
      return made[0];
    },
    async endSilence(id, user) {
      const ended = await all<Silence | null>('endSilence', [id, user]);
      return ended.find((s) => s) ?? undefined;
    },
    async deliveries(q) {
      const lists = await all<DeliveryView[]>('deliveries', [q]);
      // Delivery ids are per process: the instance keeps them apart.
      return lists
        .flatMap((list, i) => list.map((d) => ({ ...d, id: `${everyone()[i]?.instance ?? i}:${d.id}` })))
        .sort((a, b) => b.ts - a.ts)
        .slice(0, q.limit ?? 500);
    },
    testChannel: (channel, user) => call<DeliveryView>(everyone()[0], 'testChannel', [channel, user]),
  };
}
