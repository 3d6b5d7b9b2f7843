import type { Logger } from 'pino';
import type { StoreChoice } from '../core/config/env.js';
import type { Store } from '../store/store.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { createInfluxStore } from '../store/influx-store.js';
import { createOutbox } from '../store/outbox.js';
import { createBufferedStore, type BufferedStore } from '../store/buffered-store.js';

/**
 * The store the settings select. InfluxDB always sits behind the on-disk outbox under DATA_DIR, so a reading
 * is durable (and acknowledged) before InfluxDB has it, and an InfluxDB outage loses nothing.
 */
export function createStoreFor(
  choice: StoreChoice,
  dataDir: string,
  logger: Logger,
  options: { highWaterEntries?: number } = {},
): { store: Store; buffered?: BufferedStore } {
  if (choice.kind === 'embedded') return { store: createSqliteStore({ dataDir, logger }) };
  const inner = createInfluxStore(choice, { logger });
  const buffered = createBufferedStore(inner, createOutbox({ dataDir, logger }), {
    logger,
    highWaterEntries: options.highWaterEntries,
    lines: inner.readingLines,
  });
  return { store: buffered, buffered };
}
