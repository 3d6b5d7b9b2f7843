/**
 * Messages per minute one channel may take (pure token bucket). DingTalk and WeCom group robots refuse more than
 * 20 messages a minute (DingTalk: "each robot can send at most 20 messages per minute"; WeCom: "每个机器人发送的消息
 * 不能超过20条/分钟"); a message over the limit waits here instead of being refused there. The bucket holds ten
 * seconds' worth, so a burst cannot use up a whole minute's allowance at once.
 */
export interface Bucket {
  tokens: number;
  at: number;
}

export const DEFAULT_RATE_PER_MINUTE = { dingtalk: 20, wecom: 20, webhook: 60, email: 30 } as const;

const capacity = (perMinute: number) => Math.max(1, Math.ceil(perMinute / 6));

export function fullBucket(perMinute: number, now: number): Bucket {
  return { tokens: capacity(perMinute), at: now };
}

/** Takes one token if there is one; otherwise says how long until there is. */
export function takeToken(bucket: Bucket, perMinute: number, now: number): { ok: true; bucket: Bucket } | { ok: false; waitMs: number; bucket: Bucket } {
  // Refilled from the last take, not from the last look: adding up small fractions would drift below a whole token.
  const refilled = Math.min(capacity(perMinute), bucket.tokens + ((now - bucket.at) * perMinute) / 60_000);
  if (refilled >= 1 - 1e-9) return { ok: true, bucket: { tokens: Math.max(0, refilled - 1), at: now } };
  return { ok: false, waitMs: Math.ceil(((1 - refilled) * 60_000) / perMinute), bucket };
}
