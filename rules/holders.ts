/**
 * Who holds an actuator, and who a command is for. Both used to be strings (`rule:<id>|<scope>`,
 * `manual:<user>`, `failsafe`) built in one file and taken apart with split() in others; here they are
 * types, with one function to write each and one to read it back where it leaves the process.
 *
 * - `Holder` is in-process only: the ledger keys its map by `holderKey()`, which is never parsed.
 * - `CommandReason` is the `reason` of a command on the wire and in the command history (SPEC "Command"):
 *   `formatReason()` writes it, `parseReason()` reads it back (restart recovery, old state files).
 */
export type Holder =
  /** An active rule instance (one sensor, or one zone for `per: zone`). */
  | { kind: 'rule'; rule: string; instance: string }
  | { kind: 'operator'; user: string }
  /** The zone's fail-safe: all its sensors silent (zone.failsafe). */
  | { kind: 'failsafe'; site: string; zone: string }
  /** A floor of the zone (zone.floors), e.g. minimum ventilation. */
  | { kind: 'floor'; site: string; zone: string; floor: string };

export function holderKey(h: Holder): string {
  switch (h.kind) {
    case 'rule':
      return `rule\u0000${h.instance}`;
    case 'operator':
      return `operator\u0000${h.user}`;
    case 'failsafe':
      return `failsafe\u0000${h.site}\u0000${h.zone}`;
    case 'floor':
      return `floor\u0000${h.site}\u0000${h.zone}\u0000${h.floor}`;
  }
}

/**
 * Why the engine commands an actuator without a holder of its own asking: `auto:<cause>`.
 * - `drift`: the actuator reported a state it was not commanded (switched locally, or missed a command while
 *   away) and nothing was pending: the holders' state is sent again;
 * - `manual-ended`: manual mode ended (switched back to auto, or its expiry passed);
 * - `hold-ended`: an operator's hold reached its end.
 */
export const AUTO_CAUSES = ['drift', 'manual-ended', 'hold-ended'] as const;
export type AutoCause = (typeof AUTO_CAUSES)[number];

export type CommandReason =
  { kind: 'rule'; rule: string } | { kind: 'operator'; user: string } | { kind: 'failsafe'; zone: string } | { kind: 'auto'; cause: AutoCause };

const PREFIX = { rule: 'rule', operator: 'manual', failsafe: 'failsafe', auto: 'auto' } as const;

export function formatReason(r: CommandReason): string {
  switch (r.kind) {
    case 'rule':
      return `${PREFIX.rule}:${r.rule}`;
    case 'operator':
      return `${PREFIX.operator}:${r.user}`;
    case 'failsafe':
      return `${PREFIX.failsafe}:${r.zone}`;
    case 'auto':
      return `${PREFIX.auto}:${r.cause}`;
  }
}

/** The reason a stored or received command carries; undefined for anything outside the forms above. */
export function parseReason(text: string): CommandReason | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return undefined;
  const head = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (head === PREFIX.rule) return { kind: 'rule', rule: rest };
  if (head === PREFIX.operator) return { kind: 'operator', user: rest };
  if (head === PREFIX.failsafe) return { kind: 'failsafe', zone: rest };
  if (head === PREFIX.auto && (AUTO_CAUSES as readonly string[]).includes(rest)) return { kind: 'auto', cause: rest as AutoCause };
  return undefined;
}

/** The form of a reason as written on the wire (`rule`, `manual`, `failsafe`, `auto`), e.g. as a metric label. */
export function reasonForm(text: string): (typeof PREFIX)[keyof typeof PREFIX] | 'other' {
  const r = parseReason(text);
  return r ? PREFIX[r.kind] : 'other';
}
