import type { ChannelT } from '../schema.js';
import { dingTalkSender } from './dingtalk.js';
import { emailSender, type Mailer } from './email.js';
import type { ChannelSend } from './types.js';
import { webhookSender } from './webhook.js';
import { weComSender } from './wecom.js';

export type { ChannelPayload, ChannelSend } from './types.js';

/** The sender for a configured channel. */
export function senderFor(channel: ChannelT, io: { fetch: typeof fetch; now: () => number; mailer?: Mailer; smtpUrl?: string }): ChannelSend {
  switch (channel.type) {
    case 'webhook':
      return webhookSender(channel, io.fetch);
    case 'dingtalk':
      return dingTalkSender(channel, io.fetch, io.now);
    case 'wecom':
      return weComSender(channel, io.fetch);
    case 'email':
      return emailSender(channel, io.mailer, io.smtpUrl);
  }
}
