import { readFileSync, renameSync } from 'node:fs';
import { writeFileDurably } from '../core/durable-file.js';
import type { Logger } from '../core/logger.js';
import { StoreError } from '../store/store.js';

/**
 * A small JSON file under DATA_DIR that the engine keeps what is neither a reading nor an event in: actuator
 * modes and operator holds, and rules replaced over the API. Written synchronously before the API answers,
 * through core/durable-file.ts, so a kill -9 or power loss leaves either the old or the new content, never half.
 */
export interface StateFile<T> {
  readonly path: string;
  /** The stored value, or undefined when there is none. An unreadable file is moved aside (and logged), not fatal. */
  load(): T | undefined;
  /** Throws StateFileError when the file cannot be written (the caller's API call then fails instead of lying). */
  save(value: T): void;
}

/** A storage failure like any other (the API answers 503 with this message): code STORE_WRITE, worth retrying once fixed. */
export class StateFileError extends StoreError {
  constructor(path: string, cause: unknown) {
    super(
      'STORE_WRITE',
      `cannot write ${path} (${(cause as Error)?.message ?? String(cause)}): check that DATA_DIR exists, is writable and has free space`,
      true,
    );
    this.name = 'StateFileError';
  }
}

export function createStateFile<T>(path: string, logger: Logger, validate: (raw: unknown) => T): StateFile<T> {
  return {
    path,
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        logger.error({ err, path }, 'cannot read the rules engine state file: starting without it');
        return undefined;
      }
      try {
        return validate(JSON.parse(text));
      } catch (err) {
        const aside = `${path}.unreadable-${Date.now()}`;
        try {
          renameSync(path, aside);
        } catch {
          // nothing more to do: it is logged below and ignored
        }
        logger.error({ err: (err as Error).message, path, movedTo: aside }, 'the rules engine state file is not valid: moved aside, starting without it');
        return undefined;
      }
    },
    save(value) {
      try {
        writeFileDurably(path, `${JSON.stringify(value, null, 1)}\n`);
      } catch (err) {
        throw new StateFileError(path, err);
      }
    },
  };
}
