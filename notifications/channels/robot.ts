import type { AttemptOutcome } from '../retry.js';
import type { HttpAnswer } from './http.js';

/**
 * DingTalk and WeCom group robots answer HTTP 200 with `{"errcode": 0, "errmsg": "ok"}` on success and a non-zero
 * errcode on error. Rate limiting (too many messages a minute) and "system busy" are worth trying again after a
 * minute; every other errcode means the robot will keep refusing (wrong token, key or signature, a keyword missing,
 * an IP not on the robot's allow list, a message it does not take), so it is a failure that says what to check.
 */
export interface RobotCodes {
  service: 'DingTalk' | 'WeCom';
  /** errcodes meaning "too many messages now": retried after `rateLimitWaitMs`. */
  rateLimited: readonly number[];
  /** errcodes meaning "try again shortly". */
  busy: readonly number[];
  /** What to check when the robot refuses for good. */
  hint: string;
}

/** The robots limit a minute at a time (20 messages a minute per robot): wait that long before trying again. */
export const RATE_LIMIT_WAIT_MS = 60_000;

export function robotOutcome(answer: HttpAnswer, codes: RobotCodes): AttemptOutcome {
  if (!answer.ok) return answer.outcome;
  let parsed: { errcode?: unknown; errmsg?: unknown };
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    return { kind: 'retry', error: `${codes.service} answered HTTP ${answer.status} without its JSON answer: ${answer.body.slice(0, 120)}` };
  }
  const code = Number(parsed.errcode);
  if (code === 0) return { kind: 'sent' };
  const what = `${codes.service} errcode ${JSON.stringify(parsed.errcode)}${typeof parsed.errmsg === 'string' && parsed.errmsg ? ` (${parsed.errmsg})` : ''}`;
  if (codes.rateLimited.includes(code)) return { kind: 'retry', error: `${what}: rate limited, trying again in a minute`, afterMs: RATE_LIMIT_WAIT_MS };
  if (codes.busy.includes(code)) return { kind: 'retry', error: `${what}: busy, trying again` };
  return { kind: 'failed', error: `${what}: the robot refused the message; ${codes.hint}` };
}
