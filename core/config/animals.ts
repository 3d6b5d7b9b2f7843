import { z } from 'zod';
import { ID_PATTERN } from '../domain.js';
import { parseTag } from '../tags.js';
import { Duration } from './duration.js';

/**
 * The `animals` section of the farm file (SPEC "Configuration file"): the ear-tag register and when an animal
 * counts as missing. `registerFile` (our addition) names a CSV in the import format (`tag,group,born,sex,zone`),
 * relative to the farm file, loaded at start next to `register`: a park of thousands stays out of the YAML.
 */
export const Tag = z.string().transform((raw, ctx) => {
  const parsed = parseTag(raw);
  if (parsed.ok) return parsed.tag;
  ctx.addIssue({ code: 'custom', message: parsed.reason });
  return z.NEVER;
});

const IsoDate = z.iso.date('born is a date: YYYY-MM-DD');

export const AnimalEntry = z
  .object({
    tag: Tag,
    group: z.string().min(1).max(64).optional(),
    born: IsoDate.optional(),
    sex: z.enum(['f', 'm']).optional(),
    /** The zone the animal belongs to (its shed). */
    zone: z.string().regex(ID_PATTERN, 'zone is a zone id of the farm'),
    /** Only needed when two sites have a zone of that id. */
    site: z.string().regex(ID_PATTERN).optional(),
  })
  .strict();

export const AnimalsSection = z
  .object({
    missingAfter: Duration.default(86_400_000),
    register: z.array(AnimalEntry).default([]),
    registerFile: z.string().min(1).optional(),
  })
  .strict();

export type AnimalEntryT = z.output<typeof AnimalEntry>;
export type AnimalsSectionT = z.output<typeof AnimalsSection>;
