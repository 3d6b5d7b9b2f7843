import type { FarmEvents } from '../core/events.js';

/**
 * Topics only service processes use, under `{root}/_svc/`. Site ids cannot start with `_` (core/domain.ts
 * ID_PATTERN), so these never collide with device topics, and the broker's access control (aedes policy or the
 * generated Mosquitto ACL) lets no device publish or subscribe here.
 *
 *   {root}/_svc/ev/{event}/{site|_}/{zone|_}/{device|_}   FarmBus events between processes
 *   {root}/_svc/ingest/{instance}                         retained ingest counters
 *   {root}/_svc/members/rules/{instance}                  retained: which sites a rules process owns
 *   {root}/_svc/rpc/rules/{instance}                      requests to one rules process
 *   {root}/_svc/rpc/notifications/{instance}              requests to one rules process's notifications
 *   {root}/_svc/rpc/reply/{instance}                      answers to the process that asked
 */
export type BridgedEvent = keyof FarmEvents;
export const BRIDGED_EVENTS: readonly BridgedEvent[] = [
  'reading',
  'status',
  'actuatorState',
  'command',
  'commandOutcome',
  'alert',
  'reject',
  'actuatorMode',
  'actuatorHold',
  'actuatorHolders',
  'tagReads',
  'headCount',
];

const NONE = '_';

export function svcRoot(root: string): string {
  return `${root}/_svc`;
}

export function eventTopic(root: string, event: BridgedEvent, where: { site?: string; zone?: string; device?: string }): string {
  return `${svcRoot(root)}/ev/${event}/${where.site ?? NONE}/${where.zone ?? NONE}/${where.device ?? NONE}`;
}

/** Subscription filter for one event, optionally limited to some sites (rules partitions). */
export function eventFilters(root: string, event: BridgedEvent, sites?: readonly string[]): string[] {
  if (!sites) return [`${svcRoot(root)}/ev/${event}/#`];
  return sites.map((site) => `${svcRoot(root)}/ev/${event}/${site}/#`);
}

/** The event name of an event topic, or undefined for anything else. */
export function parseEventTopic(root: string, topic: string): BridgedEvent | undefined {
  const prefix = `${svcRoot(root)}/ev/`;
  if (!topic.startsWith(prefix)) return undefined;
  const event = topic.slice(prefix.length).split('/')[0] as BridgedEvent;
  return BRIDGED_EVENTS.includes(event) ? event : undefined;
}

export const ingestStatsTopic = (root: string, instance: string) => `${svcRoot(root)}/ingest/${instance}`;
export const ingestStatsFilter = (root: string) => `${svcRoot(root)}/ingest/+`;
export const rulesMemberTopic = (root: string, instance: string) => `${svcRoot(root)}/members/rules/${instance}`;
export const rulesMembersFilter = (root: string) => `${svcRoot(root)}/members/rules/+`;
export const rulesRequestTopic = (root: string, instance: string) => `${svcRoot(root)}/rpc/rules/${instance}`;
export const notificationsRequestTopic = (root: string, instance: string) => `${svcRoot(root)}/rpc/notifications/${instance}`;
export const replyTopic = (root: string, instance: string) => `${svcRoot(root)}/rpc/reply/${instance}`;

/** The last topic level (an instance id in the topics above). */
export function lastLevel(topic: string): string {
  return topic.slice(topic.lastIndexOf('/') + 1);
}
