import { createHmac } from 'node:crypto';
import type { ChannelSend } from './types.js';
import { postJson } from './http.js';
import { robotOutcome, type RobotCodes } from './robot.js';

/**
 * `type: dingtalk`: a DingTalk group robot (自定义机器人), as a markdown message. With a `secret` the robot is in
 * signed mode (加签): the request carries `timestamp` (ms) and `sign` = URL-encoded base64 of
 * HMAC-SHA256(key = secret, data = `${timestamp}\n${secret}`), as DingTalk's robot documentation describes
 * ("自定义机器人安全设置"); DingTalk refuses a timestamp more than an hour off.
 */
const CODES: RobotCodes = {
  service: 'DingTalk',
  // 130101 "send too fast, exceed 20 times per minute"; 410100 "发送速度太快而限流".
  rateLimited: [130101, 410100],
  busy: [-1],
  hint: "check the robot's access_token and secret in the farm file, its keyword and IP security settings (310000 is a wrong signature, keyword or IP)",
};

export function dingTalkSign(secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

/** The robot URL with timestamp and sign added (URLSearchParams percent-encodes the base64 `+`, `/` and `=`). */
export function dingTalkSignedUrl(url: string, secret: string, timestamp: number): string {
  const u = new URL(url);
  u.searchParams.set('timestamp', String(timestamp));
  u.searchParams.set('sign', dingTalkSign(secret, timestamp));
  return u.toString();
}

export function dingTalkSender(channel: { url: string; secret?: string }, fetchFn: typeof fetch, now: () => number): ChannelSend {
  return async (payload, signal) => {
    const url = channel.secret ? dingTalkSignedUrl(channel.url, channel.secret, now()) : channel.url;
    const body = { msgtype: 'markdown', markdown: { title: payload.message.title, text: payload.message.markdown } };
    return robotOutcome(await postJson(fetchFn, url, body, signal), CODES);
  };
}
