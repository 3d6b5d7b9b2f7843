import { localText, type LocalText } from '../../core/local-text.js';
import { currentLang } from './i18n.js';

/**
 * What a site, zone or device is called in the reader's language: its `name` from the farm file (a plain string or
 * `{ en, zh }`), else its id.
 */
export function nameOf(thing: { id: string; name?: LocalText } | undefined, fallback = ''): string {
  if (!thing) return fallback;
  return localText(thing.name, currentLang()) ?? thing.id;
}
