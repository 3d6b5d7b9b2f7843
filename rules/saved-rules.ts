import { z } from 'zod';
import { canonicalJson } from './compile.js';
import { Rules, type RuleT } from './schema.js';

/**
 * Rules replaced over the API, kept across restarts (DATA_DIR/rules.json) together with the farm file's rules
 * they replaced (`base`). At start the saved rules win while the farm file still has those same rules; once
 * someone has edited the rules in the file, the file wins: the newer deliberate change, and the one a
 * reader of the file expects to be in force.
 */
export const SavedRules = z.object({ version: z.literal(1), base: z.string(), savedAt: z.number(), rules: z.array(z.unknown()) }).strict();
export type SavedRulesT = z.output<typeof SavedRules>;

export function savedRules(fileRules: RuleT[], rules: RuleT[], now: number): SavedRulesT {
  return { version: 1, base: canonicalJson(fileRules), savedAt: now, rules };
}

export type RulesChoice =
  { source: 'file'; rules: RuleT[]; ignored?: 'file-changed' | 'invalid'; problem?: string } | { source: 'api'; rules: RuleT[]; savedAt: number };

export function chooseRules(fileRules: RuleT[], saved: SavedRulesT | undefined): RulesChoice {
  if (!saved) return { source: 'file', rules: fileRules };
  if (saved.base !== canonicalJson(fileRules)) return { source: 'file', rules: fileRules, ignored: 'file-changed' };
  const parsed = Rules.safeParse(saved.rules);
  if (!parsed.success) return { source: 'file', rules: fileRules, ignored: 'invalid', problem: parsed.error.issues[0]?.message };
  return { source: 'api', rules: parsed.data, savedAt: saved.savedAt };
}
