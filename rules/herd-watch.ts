import { formatDuration } from '../core/duration.js';
import type { TagRead } from '../core/domain.js';
import { alertFor, clear, raise, systemFacts } from './alerts.js';
import { SYSTEM_ANIMAL_MISSING, SYSTEM_HEAD_COUNT, systemOwner, type EngineContext } from './context.js';
import type { Carrier } from './effects.js';

/**
 * The two herd alerts (SPEC "Animals"), through the engine's alert lifecycle like any other (raised,
 * acknowledged, cleared; on the alert topic, in the store, restored after a restart):
 * - an animal of the register no reader has seen for `animals.missingAfter` (default 24 h; a never-read animal
 *   counts from when it was registered); cleared by its next read;
 * - a zone with a gate reader whose count has differed from its expected `attributes.headCount` for longer than
 *   1 h; cleared once it matches again.
 * The count compared (`countedFor`): the animals in the zone, except while most of its flock is out at pasture
 * (more animals went out through its gate than are in it): then those out count as accounted for, so a flock
 * grazing all day raises nothing, while a sheep that did not come back in the evening does, an hour later.
 */
export interface HerdSource {
  readonly missingAfterMs: number;
  silence(): Iterable<{ tag: string; site: string; zone: string; group?: string; since: number; last?: TagRead }>;
  headCount(site: string, zone: string): { headCount: number; out: number };
}

/** Missing is judged in hours: a scan of every animal every 10 s is precise enough and cheap for 45,000. */
const ANIMAL_SCAN_MS = 10_000;

/** How long a count may differ from the expected before it is an alert: a flock takes a while through a gate. */
export const HEAD_COUNT_GRACE_MS = 3_600_000;

export function countedFor(c: { headCount: number; out: number }): number {
  return c.out > c.headCount ? c.headCount + c.out : c.headCount;
}

export interface HerdWatch {
  tick(now: number): void;
}

export function expectedHeadCount(attributes: Record<string, unknown> | undefined): number | undefined {
  const v = attributes?.headCount;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

export function createHerdWatch(ctx: Pick<EngineContext, 'book' | 'farm'>, carrier: Carrier, herd: HerdSource): HerdWatch {
  // Only zones counted at a gate: a shed with an expected headCount but no gate reader has no count to compare.
  const zones = ctx.farm
    .zones()
    .filter((z) => z.devices.some((d) => d.role === 'reader' && d.at === 'gate'))
    .map((z) => ({ site: z.site, zone: z.zone, expected: expectedHeadCount(z.config.attributes), owner: systemOwner.headCount(z.site, z.zone) }))
    .filter((z): z is { site: string; zone: string; expected: number; owner: string } => z.expected !== undefined);
  const differsSince = new Map<string, number>();
  let scannedAt = -Infinity;

  function animals(now: number) {
    for (const a of herd.silence()) {
      const owner = systemOwner.animal(a.tag);
      const silentMs = now - a.since;
      const open = alertFor(ctx.book, owner);
      if (silentMs < herd.missingAfterMs) {
        if (!open) continue;
        const message = `${open.message} (read again${a.last ? ` by ${a.last.device}` : ''})`;
        const reader = a.last ? carrier.namesZh(a.last.site, a.last.zone, a.last.device).device : undefined;
        const zh = open.messages && `已解除：${open.messages.zh}（${reader ? `已被 ${reader} 再次读到` : '已再次读到'}）`;
        const event = clear(ctx.book, owner, { message, ...(zh ? { messages: { en: message, zh } } : {}) }, now);
        if (event) carrier.emitAlert(event);
        continue;
      }
      if (open) continue;
      const seen = a.last
        ? `last read by ${a.last.device} in ${a.last.zone}${a.last.direction ? ` (${a.last.direction})` : ''} ${formatDuration(Math.floor(silentMs / 60_000) * 60_000)} ago`
        : 'never read since it was registered';
      const message = `animal missing: ${a.tag}${a.group ? ` (${a.group})` : ''} of ${a.zone} not read for ${formatDuration(herd.missingAfterMs)}; ${seen}`;
      carrier.emitAlert(
        raise(
          ctx.book,
          owner,
          systemFacts({
            rule: SYSTEM_ANIMAL_MISSING,
            site: a.site,
            zone: a.zone,
            animal: a.tag,
            severity: 'warning',
            message,
            detail: {
              kind: 'animal-missing',
              tag: a.tag,
              ...(a.group ? { group: a.group } : {}),
              missingAfterMs: herd.missingAfterMs,
              ...(a.last
                ? {
                    last: {
                      device: a.last.device,
                      zone: a.last.zone,
                      ...(a.last.direction ? { direction: a.last.direction } : {}),
                      agoMs: Math.floor(silentMs / 60_000) * 60_000,
                    },
                  }
                : {}),
            },
          }),
          now,
        ),
      );
    }
  }

  function counts(now: number) {
    for (const z of zones) {
      const c = herd.headCount(z.site, z.zone);
      const counted = countedFor(c);
      const open = alertFor(ctx.book, z.owner);
      if (counted === z.expected) {
        differsSince.delete(z.owner);
        if (!open) continue;
        const message = `${open.message} (count matches again: ${counted})`;
        const zh = open.messages && `已解除：${open.messages.zh}（数量已相符：${counted}）`;
        const event = clear(ctx.book, z.owner, { value: c.headCount, message, ...(zh ? { messages: { en: message, zh } } : {}) }, now);
        if (event) carrier.emitAlert(event);
        continue;
      }
      // After a restart an open alert stands for a difference that began before it.
      const since = differsSince.get(z.owner) ?? (open ? open.ts - HEAD_COUNT_GRACE_MS : now);
      differsSince.set(z.owner, since);
      if (open || now - since < HEAD_COUNT_GRACE_MS) continue;
      const diff = counted - z.expected;
      const what = diff < 0 ? `${-diff} missing` : `${diff} more than expected`;
      const outNote = c.out > 0 ? `; ${c.out} out at pasture` : '';
      const message = `head count of ${z.zone} is ${counted}, expected ${z.expected} (${what}) for over ${formatDuration(HEAD_COUNT_GRACE_MS)}${outNote}`;
      // value: the head count (there is no metric: a count of animals is not a reading).
      carrier.emitAlert(
        raise(
          ctx.book,
          z.owner,
          {
            ...systemFacts({
              rule: SYSTEM_HEAD_COUNT,
              site: z.site,
              zone: z.zone,
              severity: 'warning',
              message,
              detail: { kind: 'head-count', counted, expected: z.expected, out: c.out, graceMs: HEAD_COUNT_GRACE_MS },
            }),
            value: c.headCount,
          },
          now,
        ),
      );
    }
  }

  return {
    tick(now) {
      if (now - scannedAt >= ANIMAL_SCAN_MS) {
        scannedAt = now;
        animals(now);
      }
      counts(now);
    },
  };
}
