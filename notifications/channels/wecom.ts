import type { ChannelSend } from './types.js';
import { postJson } from './http.js';
import { robotOutcome, type RobotCodes } from './robot.js';

/**
 * `type: wecom`: a WeCom (企业微信) group robot, as a markdown message (`content` at most 4096 bytes; a grouped
 * message lists at most 20 alerts, which stays well inside).
 */
const CODES: RobotCodes = {
  service: 'WeCom',
  // 45009 "api freq out of limit" (20 messages a minute per robot); 45033 "api concurrent out of limit".
  rateLimited: [45009, 45033],
  busy: [-1],
  hint: "check the robot's webhook key in the farm file (93000 is an invalid or removed webhook)",
};

export function weComSender(channel: { url: string }, fetchFn: typeof fetch): ChannelSend {
  return async (payload, signal) => {
    const body = { msgtype: 'markdown', markdown: { content: payload.message.markdown } };
    return robotOutcome(await postJson(fetchFn, channel.url, body, signal), CODES);
  };
}
