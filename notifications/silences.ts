/**
 * Silences and maintenance windows (SPEC "More routes"): which alerts send nothing for a while. Pure and free of
 * imports, so the page marks silenced alerts with the same rule the server applies.
 */
export interface SilenceMatch {
  site?: string;
  zone?: string;
  device?: string;
  rule?: string;
}

export interface Silence {
  id: string;
  match: SilenceMatch;
  reason: string;
  /** Epoch ms: the window starts (default: when it was created) and ends by itself. */
  startsAt: number;
  endsAt: number;
  createdBy: string;
  createdAt: number;
  /** Set when someone ended it early (DELETE /api/silences/:id). */
  endedAt?: number;
  endedBy?: string;
}

/** What a silence needs to look at in an alert. */
export interface SilenceTarget {
  site: string;
  zone: string;
  device?: string;
  rule: string;
}

export function silenceActive(s: Silence, now: number): boolean {
  return s.startsAt <= now && now < s.endsAt && (s.endedAt === undefined || s.endedAt > now);
}

/** Every field the silence names must be the alert's; a silence names at least one. */
export function silenceMatches(s: Pick<Silence, 'match'>, a: SilenceTarget): boolean {
  const m = s.match;
  return (
    (m.site === undefined || m.site === a.site) &&
    (m.zone === undefined || m.zone === a.zone) &&
    (m.device === undefined || m.device === a.device) &&
    (m.rule === undefined || m.rule === a.rule)
  );
}

/** The active silence holding this alert back (the one that lasts longest), if any. */
export function silenceFor(a: SilenceTarget, silences: Iterable<Silence>, now: number): Silence | undefined {
  let best: Silence | undefined;
  for (const s of silences) if (silenceActive(s, now) && silenceMatches(s, a) && (!best || s.endsAt > best.endsAt)) best = s;
  return best;
}
