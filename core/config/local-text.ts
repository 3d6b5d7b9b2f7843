import { z } from 'zod';
import type { LocalText as LocalTextT } from '../local-text.js';

/** A name or message shown to people: a plain string, or `{ en, zh }` (SPEC "Configuration file"). */
export const LocalText: z.ZodType<LocalTextT, unknown> = z.union([z.string().min(1), z.object({ en: z.string().min(1), zh: z.string().min(1) }).strict()], {
  error: 'expected a text, or { en: "...", zh: "..." } with both languages',
});
