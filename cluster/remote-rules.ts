import type { FarmIndex } from '../core/farm-index.js';
import type { FarmMetrics } from '../core/observability.js';
import { ActuatorError, type RulesHandle } from '../rules/handle.js';
import { StoreError } from '../store/store.js';
import { NotificationsError } from '../notifications/handle.js';
import { ClusterError } from './errors.js';
import type { MembersView } from './membership.js';
import { ownerOf, type RulesMember } from './partition.js';
import { memberCalls } from './member-calls.js';
import type { RpcClient, WireError } from './rpc.js';
import { rulesRequestTopic } from './service-topics.js';

/**
 * The dashboard's RulesHandle when the rules engine runs in other processes (cluster/rules-server.ts answers).
 * Operations on one actuator go to the process owning its site; lists are gathered from every rules process
 * and merged; replacing rules goes to every process (each validates the same way, so all agree or none change).
 */
export interface RemoteRulesDeps {
  rpc: RpcClient;
  members: MembersView;
  farm: FarmIndex;
  topicRoot: string;
  metrics: FarmMetrics;
}

const STORE_CODES: readonly StoreError['code'][] = ['STORE_UNREACHABLE', 'STORE_AUTH', 'STORE_NO_DATABASE', 'STORE_WRITE', 'STORE_QUERY'];

/** The error the dashboard would have got from a local engine, rebuilt from the answer of a remote one. */
export function reviveRulesError(e: WireError): Error {
  if (e.name === 'ActuatorError' && (e.code === 'NOT_FOUND' || e.code === 'NOT_ACTUATOR' || e.code === 'BAD_COMMAND' || e.code === 'OUTRANKED'))
    return new ActuatorError(e.code, e.message);
  if (e.name === 'NotificationsError' && (e.code === 'NOT_FOUND' || e.code === 'BAD_SILENCE')) return new NotificationsError(e.code, e.message);
  // StoreError and its subclasses (e.g. the rules state file could not be written): the API answers 503.
  if (STORE_CODES.includes(e.code as StoreError['code'])) return new StoreError(e.code as StoreError['code'], e.message);
  return Object.assign(new Error(e.message), { name: e.name, code: e.code });
}

type Rules = RulesHandle;

export function createRemoteRules(deps: RemoteRulesDeps): RulesHandle {
  const { call, everyone, all } = memberCalls<Rules>(
    deps,
    (instance) => rulesRequestTopic(deps.topicRoot, instance),
    'no rules process is connected to the broker: start one (npm start -- --only rules)',
  );
  const ownerOfDevice = (deviceId: string): RulesMember => {
    const d = deps.farm.device(deviceId);
    if (!d) throw new ActuatorError('NOT_FOUND', `no device "${deviceId}" in the farm configuration`);
    const owner = ownerOf(d.site, deps.members.members());
    if (!owner)
      throw new ClusterError(
        'RULES_UNAVAILABLE',
        `no rules process owns site ${d.site}: start one with RULES_SITES including ${d.site} (or without RULES_SITES)`,
      );
    return owner;
  };

  return {
    rules: async () => call(everyone()[0], 'rules'),
    async replaceRules(raw) {
      const results = await all('replaceRules', raw);
      return results.find((r) => !r.ok) ?? results[0];
    },
    async dryRun(raw, from, to) {
      const results = await all('dryRun', raw, from, to);
      const failed = results.find((r) => !r.ok);
      if (failed) return failed;
      return { ok: true, events: results.flatMap((r) => (r.ok ? r.events : [])).sort((a, b) => a.ts - b.ts) };
    },
    activeAlerts: async () => (await all('activeAlerts')).flat().sort((a, b) => b.ts - a.ts),
    async acknowledge(alertId, user) {
      // Only the process owning the alert's site knows it; the others answer nothing (null over JSON).
      const answers = await all('acknowledge', alertId, user);
      return answers.find((a) => a) ?? undefined;
    },
    actuators: async () => (await all('actuators')).flat(),
    command: (deviceId, action, value, user, request) => call(ownerOfDevice(deviceId), 'command', deviceId, action, value, user, request ?? {}),
    setMode: (deviceId, mode, untilMs, user) => call(ownerOfDevice(deviceId), 'setMode', deviceId, mode, untilMs, user),
  };
}
