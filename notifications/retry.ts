/**
 * What one attempt to send came to, and what happens next (pure). Channels tell "try again later" (network
 * errors, timeouts, HTTP 5xx/408/429, a robot's rate-limit errcode, SMTP 4xx) from "this will never work" (HTTP
 * 4xx, a wrong robot secret or key, SMTP 5xx): the first is retried with exponential backoff, the second is given
 * up at once so a misconfigured channel says so instead of retrying for half an hour.
 */
export type AttemptOutcome = { kind: 'sent' } | { kind: 'retry'; error: string; afterMs?: number } | { kind: 'failed'; error: string };

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** 5 s, 10 s, 20 s ... up to 5 min between attempts; 10 attempts span about 20 minutes. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 5_000, maxDelayMs: 300_000 };

export type AfterAttempt = { status: 'sent' } | { status: 'retrying'; nextAttemptAt: number; error: string } | { status: 'failed'; error: string };

/** `attempts` counts the attempt just made. */
export function afterAttempt(outcome: AttemptOutcome, attempts: number, now: number, policy: RetryPolicy): AfterAttempt {
  if (outcome.kind === 'sent') return { status: 'sent' };
  if (outcome.kind === 'failed') return { status: 'failed', error: outcome.error };
  if (attempts >= policy.maxAttempts) return { status: 'failed', error: `gave up after ${attempts} attempts: ${outcome.error}` };
  const backoff = Math.min(policy.baseDelayMs * 2 ** (attempts - 1), policy.maxDelayMs);
  return { status: 'retrying', nextAttemptAt: now + Math.max(backoff, outcome.afterMs ?? 0), error: outcome.error };
}
