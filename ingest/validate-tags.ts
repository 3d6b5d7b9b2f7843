import { z } from 'zod';
import type { GateDirection, ReaderPlace } from '../core/domain.js';
import { parseTag } from '../core/tags.js';
import { checkTimestamp, TimestampShape } from './timestamp.js';
import type { Rejection, ValidationContext } from './validate.js';

/**
 * Pure validation of a tag-read message (SPEC "Tag reads": `{"ts"?, "tags": [...], "direction"?}`).
 * A gate reader must say which way the animals passed; a pen or feeder reader must not (it cannot know).
 * Each tag is judged on its own: one unreadable number does not sink the rest of a gate burst. A tag listed
 * twice in one message is one read.
 */
export interface TagValidationContext extends Pick<ValidationContext, 'now' | 'maxBytes' | 'maxFutureMs' | 'maxPastMs'> {
  /** Where the reader sits (farm file `at`, default gate). */
  at: ReaderPlace;
}

export interface ValidTagReads {
  ts: number;
  direction?: GateDirection;
  tags: string[];
}

export interface TagValidationResult {
  reads?: ValidTagReads;
  rejects: Rejection[];
}

/** More tags than a reader can hold in one report: a gate reads at most a few animals a second. */
export const MAX_TAGS_PER_MESSAGE = 1000;

const Shape = z
  .object({
    ts: TimestampShape.optional(),
    tags: z.array(z.unknown()).min(1, 'tags is empty: send at least one tag').max(MAX_TAGS_PER_MESSAGE),
    direction: z.enum(['in', 'out']).optional(),
  })
  .strict();

export function validateTagReads(payload: Buffer | string, ctx: TagValidationContext): TagValidationResult {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > ctx.maxBytes) return one('oversize', `payload is ${size} bytes, the limit is ${ctx.maxBytes} (MAX_PAYLOAD_BYTES)`);
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return one('malformed_json', `not JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  const shape = Shape.safeParse(json);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    return one(
      'schema',
      `${issue.path.join('.') || 'payload'}: ${issue.message}; expected {"ts"?, "tags": ["982000123456789", ...], "direction"?: "in"|"out"}`,
    );
  }
  const { ts: rawTs, tags: rawTags, direction } = shape.data;
  if (ctx.at === 'gate' && !direction)
    return one(
      'schema',
      'a gate reader reports "direction": "in" or "out" with its tags (a reader at a pen or feeder is configured with at: pen or at: feeder)',
    );
  if (ctx.at !== 'gate' && direction)
    return one('schema', `only gate readers report a direction; this reader is at a ${ctx.at} (configure it with at: gate if it stands at a gate)`);
  const time = checkTimestamp(rawTs, ctx);
  if (!time.ok) return { rejects: [{ reason: time.reason, detail: time.detail }] };
  const ts = time.ts;
  const rejects: Rejection[] = [];
  const tags = new Set<string>();
  rawTags.forEach((raw, i) => {
    const parsed = parseTag(raw);
    if (parsed.ok) tags.add(parsed.tag);
    else rejects.push({ reason: 'schema', detail: `tags[${i}]: ${parsed.reason}` });
  });
  return { reads: tags.size > 0 ? { ts, direction, tags: [...tags] } : undefined, rejects };
}

function one(reason: Rejection['reason'], detail: string): TagValidationResult {
  return { rejects: [{ reason, detail }] };
}
