import type { ChannelSend } from './types.js';
import { postJson } from './http.js';

/**
 * `type: webhook`: a JSON POST of the alert(s): `{ title, text, language, site, test?, alerts: [{ reason, link,
 * alert }] }`, where `alert` is the alert event as on MQTT. Any 2xx is delivered.
 */
export function webhookSender(channel: { url: string; headers?: Record<string, string> }, fetchFn: typeof fetch): ChannelSend {
  return async (payload, signal) => {
    const body = {
      title: payload.message.title,
      text: payload.message.text,
      language: payload.message.language,
      site: payload.site,
      test: payload.test || undefined,
      alerts: payload.alerts,
    };
    const answer = await postJson(fetchFn, channel.url, body, signal, channel.headers);
    return answer.ok ? { kind: 'sent' } : answer.outcome;
  };
}
