import { ApiFailure } from './api.js';
import { currentLang, t, type MessageKey } from './i18n.js';
import { MORE_EN } from './messages.js';

/**
 * What a failed request means, in the reader's language. The server answers a stable code (dashboard/errors.ts)
 * with an English message that says what to do: in English the page shows that message; in Chinese the message
 * for the code (with the fields a validation names), or for the code in this context where the page knows more
 * (a command refused: a floor or the fail-safe holds the actuator, manual mode overrides).
 */
export type ErrorContext = 'command' | 'ack' | 'mode';

const known = (key: string): key is MessageKey => key in MORE_EN;

export function errorText(err: unknown, context?: ErrorContext): string {
  if (!(err instanceof ApiFailure)) return t('error.network');
  // English: the server's own message is the most specific (it names the floor, the field, the limit).
  if (currentLang() === 'en' && err.body?.message) return err.body.message;
  const code = err.body?.error;
  const specific = context && code ? `error.${context}.${code}` : '';
  if (known(specific)) return t(specific);
  const key = `error.${code}`;
  if (code && known(key)) return t(key, { detail: (err.body?.problems ?? []).map((p) => p.path).join(', ') || err.status });
  return t('error.unknown', { status: err.status });
}
