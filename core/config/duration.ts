import { z } from 'zod';
import { parseDurationMs } from '../duration.js';

/** A duration in the farm file (`500ms`, `30s`, `10m`, `6h`, `1d`, or a number of ms), parsed to ms. */
export const Duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDurationMs(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
