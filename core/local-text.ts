/**
 * Text shown to people that the farm file may give in both languages (SPEC "Configuration file": names of sites,
 * zones and devices, a rule's alert message): a plain string (the same in every language) or `{ en, zh }`.
 * Pure and free of imports, so the page bundle uses the same helper as the server.
 */
export type Language = 'en' | 'zh-CN';
export const LANGUAGES: readonly Language[] = ['en', 'zh-CN'];

export type LocalText = string | { en: string; zh: string };

/** The text in `lang`; a plain string is the same in every language. */
export function localText(text: LocalText, lang: Language): string;
export function localText(text: LocalText | undefined, lang: Language): string | undefined;
export function localText(text: LocalText | undefined, lang: Language): string | undefined {
  if (text === undefined || typeof text === 'string') return text;
  return lang === 'zh-CN' ? text.zh : text.en;
}

/** Applies `fn` to each language of a text, keeping its shape (a plain string stays plain). */
export function mapLocalText(text: LocalText, fn: (s: string, lang: Language) => string): LocalText {
  return typeof text === 'string' ? fn(text, 'en') : { en: fn(text.en, 'en'), zh: fn(text.zh, 'zh-CN') };
}
