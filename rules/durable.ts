import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import type { LedgerEntry } from './actuators.js';
import type { Clock } from './clock.js';
import { keepForeign, restoreModes, SavedActuators, snapshotModes } from './modes.js';
import { chooseRules, SavedRules, savedRules } from './saved-rules.js';
import type { RuleT } from './schema.js';
import { createStateFile } from './state-file.js';

/**
 * The engine's own files under DATA_DIR (stateDir): actuators.json (operators' modes and holds) and rules.json
 * (rules replaced over the API). Readings, alerts and commands are in the Store; these two are neither.
 * Without a stateDir nothing is written and everything lasts as long as the process.
 */
export interface DurableState {
  /** At start: the rules to run (saved from the API, or the farm file's) and the saved modes put into the ledger. */
  load(fileRules: RuleT[]): RuleT[];
  /** Applies an operator change to an entry and saves it; undone (and the StateFileError thrown) when it cannot be saved. */
  change(entry: LedgerEntry, apply: () => void): void;
  /** Saves the modes after a change the engine made itself (a hold or manual period ending), or checked first. */
  saveModes(): void;
  /** Saves a new rule set before it takes effect; throws StateFileError when it cannot. */
  saveRules(fileRules: RuleT[], next: RuleT[]): void;
}

export function createDurableState(o: {
  stateDir?: string;
  ledger: Map<string, LedgerEntry>;
  logger: Logger;
  clock: Clock;
  operatorHoldMs: number;
}): DurableState {
  const { ledger, logger } = o;
  const modesFile = o.stateDir ? createStateFile(join(o.stateDir, 'actuators.json'), logger, (raw) => SavedActuators.parse(raw)) : undefined;
  const rulesFile = o.stateDir ? createStateFile(join(o.stateDir, 'rules.json'), logger, (raw) => SavedRules.parse(raw)) : undefined;

  const state: DurableState = {
    load(fileRules) {
      const choice = chooseRules(fileRules, rulesFile?.load());
      if (choice.source === 'api')
        logger.info({ file: rulesFile?.path, savedAt: new Date(choice.savedAt).toISOString() }, 'using the rules last replaced over the API');
      else if (choice.ignored === 'file-changed')
        logger.warn({ file: rulesFile?.path }, 'the rules in the farm file changed since rules were replaced over the API: using the farm file');
      else if (choice.ignored === 'invalid')
        logger.error({ file: rulesFile?.path, problem: choice.problem }, 'the rules saved from the API are no longer valid: using the farm file');
      const modes = modesFile?.load();
      if (modes) {
        const foreign = restoreModes(ledger, modes, o.clock.now(), o.operatorHoldMs);
        if (foreign.length > 0)
          logger.info(
            { devices: foreign },
            'saved modes of actuators this engine does not run (another site partition, or removed from the farm file): left as they are',
          );
        const manual = [...ledger.values()].filter((e) => e.mode === 'manual').map((e) => e.device);
        if (manual.length > 0) logger.info({ manual }, 'actuators in manual mode since before the restart');
      }
      return choice.rules;
    },
    change(entry, apply) {
      const before = { mode: entry.mode, manualUntil: entry.manualUntil, manualBy: entry.manualBy, holds: new Map(entry.holds), revision: entry.revision + 1 };
      apply();
      try {
        state.saveModes();
      } catch (err) {
        Object.assign(entry, before);
        throw err;
      }
    },
    saveModes() {
      if (modesFile) modesFile.save(keepForeign(snapshotModes(ledger.values()), modesFile.load(), (device) => ledger.has(device)));
    },
    saveRules(fileRules, next) {
      rulesFile?.save(savedRules(fileRules, next, o.clock.now()));
    },
  };
  return state;
}
