import { ApiFailure } from './api.js';
import { currentLang, t, type MessageKey } from './i18n.js';
import { MORE_EN } from './messages.js';

/**
 * What a failed request means, in the reader's language. The server answers a stable code (dashboard/errors.ts)
 * with an English message that says what to do: in English the page shows that message; in Chinese the message
 * for the code (with the fields a validation names). Where the page knows more (a command refused by a floor),
 * a message for that context comes first.
 */
export type ErrorContext = 'command' | 'ack' | 'mode';

const known = (key: string): key is MessageKey => key in MORE_EN;

export function errorText(err: unknown, context?: ErrorContext): string {
  if (!(err instanceof ApiFailure)) return t('error.network');
  const code = err.body?.error;
  const specific = context && code ? `error.${context}.${code}` : '';
  if (known(specific)) return t(specific);
  if (currentLang() === 'en' && err.body?.message) return err.body.message;
  const key = `error.${code}`;
  if (code && known(key)) return t(key, { detail: (err.body?.problems ?? []).map((p) => p.path).join(', ') || err.status });
  return t('error.unknown', { status: err.status });
}
