import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { lastLevel, rulesMembersFilter, rulesMemberTopic } from './service-topics.js';
import type { RulesMember } from './partition.js';

/**
 * Which rules processes are running and which sites each owns: every rules process keeps a retained message
 * on {root}/_svc/members/rules/{instance}; its Last Will (and a clean stop) replaces it with an empty retained
 * message, which deletes it. Anyone subscribing gets the current list from the broker at once.
 */
const RETAINED_SETTLE_MS = 300;

export interface MembersView {
  start(): Promise<void>;
  members(): RulesMember[];
  stop(): void;
}

export function watchRulesMembers(client: MqttClient, topicRoot: string, logger: Logger): MembersView {
  const members = new Map<string, RulesMember>();
  const onMessage = (topic: string, payload: Buffer) => {
    if (!topic.startsWith(rulesMemberTopic(topicRoot, ''))) return;
    const instance = lastLevel(topic);
    if (payload.length === 0) {
      if (members.delete(instance)) logger.info({ instance }, 'rules process left');
      return;
    }
    try {
      const m = JSON.parse(payload.toString('utf8')) as RulesMember;
      if (!members.has(instance)) logger.info({ instance, sites: m.sites }, 'rules process joined');
      members.set(instance, { instance, sites: m.sites, startedAt: m.startedAt });
    } catch {
      logger.warn({ topic }, 'ignored an unreadable rules membership message');
    }
  };
  return {
    async start() {
      client.on('message', onMessage);
      await client.subscribeAsync(rulesMembersFilter(topicRoot), { qos: 1 });
      // Retained messages follow the SUBACK; give them a moment to arrive before anyone asks.
      await new Promise((r) => setTimeout(r, RETAINED_SETTLE_MS));
    },
    members: () => [...members.values()],
    stop() {
      client.off('message', onMessage);
    },
  };
}

/** The Last Will that removes a rules process from the list when its connection drops. */
export function memberWill(topicRoot: string, instance: string) {
  return { topic: rulesMemberTopic(topicRoot, instance), payload: Buffer.alloc(0), qos: 1 as const, retain: true };
}

export function announceMember(client: MqttClient, topicRoot: string, member: RulesMember): Promise<unknown> {
  return client.publishAsync(rulesMemberTopic(topicRoot, member.instance), JSON.stringify(member), { qos: 1, retain: true });
}

export function withdrawMember(client: MqttClient, topicRoot: string, instance: string): Promise<unknown> {
  return client.publishAsync(rulesMemberTopic(topicRoot, instance), Buffer.alloc(0), { qos: 1, retain: true });
}
