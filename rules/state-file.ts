import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../core/logger.js';
import { StoreError } from '../store/store.js';

/**
 * A small JSON file under DATA_DIR that the engine keeps what is neither a reading nor an event in: actuator
 * modes and operator holds, and rules replaced over the API. Written synchronously before the API answers,
 * to a temporary file that is fsynced and renamed over the old one, so a kill -9 or power loss leaves
 * either the old or the new content, never half of it.
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
    super('STORE_WRITE', `cannot write ${path} (${(cause as Error)?.message ?? String(cause)}): check that DATA_DIR exists, is writable and has free space`, true);
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
      const tmp = `${path}.tmp`;
      try {
        mkdirSync(dirname(path), { recursive: true });
        const fd = openSync(tmp, 'w');
        try {
          writeSync(fd, `${JSON.stringify(value, null, 1)}\n`);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, path);
        syncDirectory(dirname(path));
      } catch (err) {
        throw new StateFileError(path, err);
      }
    },
  };
}

/** Makes the rename itself durable (the directory entry), where the platform allows opening a directory. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported on every platform (e.g. Windows); the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
