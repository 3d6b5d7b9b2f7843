import type { AlertDetail, AlertEvent, Severity } from '../core/domain.js';

/**
 * The open alerts and their lifecycle (ThingsBoard's alarm vocabulary): raised -> escalated ->
 * acknowledged -> cleared. Pure bookkeeping: each call returns the event to publish, or undefined when
 * nothing changed. An alert belongs to an owner key (a rule instance key, or a built-in one such as
 * `failsafe|site/zone`), so the instance that raised it is the one that clears it.
 */
export interface AlertBook {
  /** Latest event of every alert not yet cleared. */
  active: Map<string, AlertEvent>;
  byOwner: Map<string, string>;
  ownerOf: Map<string, string>;
}

export interface AlertFacts {
  rule: string;
  site: string;
  zone: string;
  device?: string;
  /** The ear tag, for an alert about one animal. */
  animal?: string;
  severity: Severity;
  level: string | null;
  value: number | null;
  metric: string | null;
  message: string;
  messages?: { en: string; zh: string };
  /** A built-in alert's facts, for screens that tell it in another language. */
  detail?: AlertDetail;
}

/** Facts of an alert that has no level, value or metric (a built-in one: fail-safe, actuator, hold). */
export function systemFacts(f: Omit<AlertFacts, 'level' | 'value' | 'metric'>): AlertFacts {
  return { ...f, level: null, value: null, metric: null };
}

export function createAlertBook(): AlertBook {
  return { active: new Map(), byOwner: new Map(), ownerOf: new Map() };
}

export function alertFor(book: AlertBook, owner: string): AlertEvent | undefined {
  const id = book.byOwner.get(owner);
  return id ? book.active.get(id) : undefined;
}

export function raise(book: AlertBook, owner: string, facts: AlertFacts, now: number): AlertEvent {
  const open = alertFor(book, owner);
  if (open) return open; // one open alert per owner: a second raise is the same alert
  const subject = facts.device ?? facts.animal ?? '-';
  let id = `${facts.rule}:${facts.site}:${facts.zone}:${subject}:${now}`;
  for (let n = 2; book.active.has(id); n++) id = `${facts.rule}:${facts.site}:${facts.zone}:${subject}:${now}-${n}`;
  const event: AlertEvent = clean({ id, ...facts, state: 'raised', ts: now, raisedAt: now });
  track(book, owner, event);
  return event;
}

/**
 * A level change, as a barn controller's or ThingsBoard's operator expects it:
 * - to a worse level: state `escalated` and any acknowledgement is void (`by` is dropped): what was acknowledged
 *   was a milder condition, so the worse one needs its own acknowledgement;
 * - to a milder level: the acknowledgement stands (state stays `acknowledged`, `by` kept) since the operator
 *   already took charge of something worse; an alert nobody acknowledged is sent as `escalated` (the SPEC has
 *   no `de-escalated` state). Either way with the new, lower `level` and "(de-escalated to …)" in the message.
 */
export function changeLevel(book: AlertBook, owner: string, facts: Partial<AlertFacts>, up: boolean, now: number): AlertEvent | undefined {
  const open = alertFor(book, owner);
  if (!open) return undefined;
  const state = !up && open.state === 'acknowledged' ? 'acknowledged' : 'escalated';
  const event: AlertEvent = clean({ ...open, ...facts, state, ts: now, by: state === 'acknowledged' ? open.by : undefined });
  track(book, owner, event);
  return event;
}

export function clear(book: AlertBook, owner: string, facts: Partial<AlertFacts>, now: number): AlertEvent | undefined {
  const open = alertFor(book, owner);
  if (!open) return undefined;
  book.active.delete(open.id);
  book.byOwner.delete(owner);
  book.ownerOf.delete(open.id);
  return clean({ ...open, ...facts, state: 'cleared', ts: now });
}

export function acknowledge(book: AlertBook, id: string, user: string, now: number): { event: AlertEvent; changed: boolean } | undefined {
  const open = book.active.get(id);
  if (!open) return undefined;
  if (open.state === 'acknowledged') return { event: open, changed: false };
  const event: AlertEvent = { ...open, state: 'acknowledged', by: user, ts: now };
  book.active.set(id, event);
  return { event, changed: true };
}

/**
 * Rebuilds the open alerts from stored events (any order): the latest event of each id wins; at equal
 * ts the later lifecycle state does, so a raise and its clear in the same millisecond end cleared.
 */
export function restore(book: AlertBook, events: AlertEvent[], ownerOf: (e: AlertEvent) => string): void {
  const rank = { raised: 0, escalated: 1, acknowledged: 2, cleared: 3 } as const;
  const latest = new Map<string, AlertEvent>();
  for (const e of events) {
    const seen = latest.get(e.id);
    if (!seen || e.ts > seen.ts || (e.ts === seen.ts && rank[e.state] >= rank[seen.state])) latest.set(e.id, e);
  }
  for (const e of latest.values()) {
    if (e.state === 'cleared') continue;
    const owner = ownerOf(e);
    const prior = alertFor(book, owner);
    if (prior && prior.ts >= e.ts) continue; // two open alerts for one owner: keep the newer
    track(book, owner, e);
  }
}

function track(book: AlertBook, owner: string, event: AlertEvent): void {
  const prior = book.byOwner.get(owner);
  if (prior && prior !== event.id) {
    book.active.delete(prior);
    book.ownerOf.delete(prior);
  }
  book.active.set(event.id, event);
  book.byOwner.set(owner, event.id);
  book.ownerOf.set(event.id, owner);
}

/** Drops undefined fields so the JSON on the wire and in the store has no `"device": undefined` noise. */
function clean(e: AlertEvent): AlertEvent {
  for (const k of Object.keys(e) as (keyof AlertEvent)[]) if (e[k] === undefined) delete e[k];
  return e;
}

/** Fills `{value}`, `{zone}`, ... in an alert message; numbers get at most two decimals. */
export function formatMessage(template: string, vars: Record<string, string | number | undefined>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) return whole;
    return typeof v === 'number' ? String(Math.round(v * 100) / 100) : v;
  });
}
