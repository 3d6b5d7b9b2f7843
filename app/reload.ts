import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, loadFarmConfig } from '../core/config/load.js';
import type { FarmConfigT } from '../core/config/schema.js';
import type { FarmChanges } from '../core/farm-changes.js';

/**
 * Reloads the farm file while the service runs: on SIGHUP, and when the file changes on disk (an editor's save,
 * `npm run provision`). The file is validated as at start; an invalid one is refused with its problems in one log
 * line and the running configuration stays. Changes to the file come in bursts (an editor writes, renames, touches):
 * they are taken together after `settleMs`, and a file whose content did not change is not reloaded.
 */
export interface FarmReloader {
  /** Reads and applies the file now; resolves with what changed, or undefined when refused or unchanged. */
  reload(why: string): Promise<FarmChanges | undefined>;
  stop(): void;
}

export interface ReloaderOptions {
  path: string;
  logger: Logger;
  apply(next: FarmConfigT): Promise<FarmChanges>;
  /** Watch the file (default true) and take SIGHUP (default true). */
  watch?: boolean;
  signal?: boolean;
  settleMs?: number;
}

export function createFarmReloader(o: ReloaderOptions): FarmReloader {
  const digest = () => {
    try {
      return createHash('sha256').update(readFileSync(o.path)).digest('hex');
    } catch {
      return '';
    }
  };
  let applied = digest();
  let running: Promise<FarmChanges | undefined> = Promise.resolve(undefined);

  async function reloadNow(why: string): Promise<FarmChanges | undefined> {
    const seen = digest();
    if (seen === applied && why !== 'SIGHUP') return undefined;
    let next: FarmConfigT;
    try {
      next = loadFarmConfig(o.path);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems.map((p) => `${p.path || '(top level)'}: ${p.message}`).join('; ') : (err as Error).message;
      o.logger.error(
        { file: o.path, why },
        `farm file change refused, the running configuration stays: ${problems}. Fix the file; it is read again when saved (or on SIGHUP)`,
      );
      applied = seen;
      return undefined;
    }
    applied = seen;
    try {
      return await o.apply(next);
    } catch (err) {
      o.logger.error({ err, file: o.path, why }, 'applying the reloaded farm file failed: restart the service to be sure it runs on the file as it is');
      return undefined;
    }
  }
  // One reload at a time, in the order asked.
  const reload = (why: string) => (running = running.then(() => reloadNow(why)));

  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  if (o.watch ?? true) {
    const name = basename(o.path);
    // The directory, not the file: editors save by writing a new file and renaming it over the old one.
    watcher = watch(dirname(o.path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload('file changed'), o.settleMs ?? 300);
    });
    watcher.on('error', (err) => o.logger.warn({ err, file: o.path }, 'cannot watch the farm file for changes: reload it with SIGHUP'));
  }
  const onHup = () => void reload('SIGHUP');
  if (o.signal ?? true) process.on('SIGHUP', onHup);

  return {
    reload,
    stop() {
      clearTimeout(timer);
      watcher?.close();
      process.off('SIGHUP', onHup);
    },
  };
}
