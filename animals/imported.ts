import { join } from 'node:path';
import { z } from 'zod';
import { AnimalEntry } from '../core/config/animals.js';
import type { Logger } from '../core/logger.js';
import { createStateFile, type StateFile } from '../rules/state-file.js';

/**
 * Animals imported over the API (POST /api/animals/import), kept in DATA_DIR/animals.json as an overlay on the
 * farm file's register (a tag in both: the import wins), written atomically before the API answers, so an
 * import survives a restart (kill -9 included) and the farm file stays as written.
 */
export const ImportedAnimal = AnimalEntry.extend({ site: z.string(), importedAt: z.number() });
export type ImportedAnimalT = z.output<typeof ImportedAnimal>;
const Saved = z.object({ version: z.literal(1), animals: z.array(ImportedAnimal) });

export function importedAnimalsFile(dataDir: string | undefined, logger: Logger): StateFile<ImportedAnimalT[]> | undefined {
  if (!dataDir) return undefined;
  const file = createStateFile(join(dataDir, 'animals.json'), logger, (raw) => Saved.parse(raw));
  return {
    path: file.path,
    load: () => file.load()?.animals,
    save: (animals) => file.save({ version: 1, animals }),
  };
}
