import type { FarmMetrics } from '../core/observability.js';
import { ClusterError } from './errors.js';
import type { MembersView } from './membership.js';
import type { RulesMember } from './partition.js';
import { callerOf, type Api, type ApiMethod, type RpcClient } from './rpc.js';

type Result<A extends Api<A>, M extends ApiMethod<A>> = Awaited<ReturnType<A[M]>>;

/** Typed calls of one API served by every rules process (the rules engine, notifications). */
export interface MemberCalls<A extends Api<A>> {
  /** One method in one process, counted in farm_rpc_calls_total by outcome (ok, unavailable, error). */
  call<M extends ApiMethod<A>>(member: RulesMember, method: M, ...args: Parameters<A[M]>): Promise<Result<A, M>>;
  /** The rules processes connected now; none is a ClusterError RULES_UNAVAILABLE with `noneMessage`. */
  everyone(): RulesMember[];
  /** One method in every process, answers in the order of everyone(). */
  all<M extends ApiMethod<A>>(method: M, ...args: Parameters<A[M]>): Promise<Result<A, M>[]>;
}

export function memberCalls<A extends Api<A>>(
  deps: { rpc: RpcClient; members: MembersView; metrics: FarmMetrics },
  topicOf: (instance: string) => string,
  noneMessage: string,
): MemberCalls<A> {
  const caller = callerOf<A>(deps.rpc);
  async function call<M extends ApiMethod<A>>(member: RulesMember, method: M, ...args: Parameters<A[M]>): Promise<Result<A, M>> {
    try {
      const value = await caller(topicOf(member.instance), `rules process ${member.instance}`, method, ...args);
      deps.metrics.rpcCalls.inc({ method, outcome: 'ok' });
      return value;
    } catch (err) {
      deps.metrics.rpcCalls.inc({ method, outcome: err instanceof ClusterError ? 'unavailable' : 'error' });
      throw err;
    }
  }
  function everyone(): RulesMember[] {
    const list = deps.members.members();
    if (list.length === 0) throw new ClusterError('RULES_UNAVAILABLE', noneMessage);
    return list;
  }
  return { call, everyone, all: (method, ...args) => Promise.all(everyone().map((m) => call(m, method, ...args))) };
}
