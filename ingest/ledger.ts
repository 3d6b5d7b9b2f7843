import type { Reading } from '../core/domain.js';
import { METRIC_NAMES } from '../core/metrics-catalog.js';
import type { ReadingKey, Store } from '../store/store.js';

/**
 * Which values were already accepted, so a value sent again (a QoS 1 redelivery, a store-and-forward batch resent
 * after a lost PUBACK, a replay after a crash) is acknowledged but not stored, evaluated or shown twice (SPEC:
 * readings are idempotent per device, metric and ts; the first accepted value stands).
 *
 * Bounded memory: per device the `perDevice` newest timestamps (default 256) with a bit per metric (16 bytes each),
 * plus the last `overflow` keys pushed out of those (default 65,536 farm-wide, about 20 bytes each): at most about
 * 4 KB per device + 2 MB (measured: 1,000 devices with full windows and a full overflow hold 7.6 MB of heap, and
 * admitting a reading costs 0.7-1 us in the steady state; with the overflow keyed by "device\0ts" strings before,
 * 12.8 MB and 1.2-1.8 us). Every key newer than what a device's window pushed out (and newer than what the store
 * held at start, `seed`) is known here, so a miss there means new. Older keys that are no longer held are looked
 * up in the store (`lookup`, one range query per message), which is also how a batch replayed after a restart is
 * recognised.
 */
export interface LedgerOptions {
  perDevice?: number;
  overflow?: number;
  /** Keys (ts, metric) the store holds for a device in [from, to]. */
  lookup?: (device: string, from: number, to: number) => Promise<{ ts: number; metric: string }[]>;
}

export interface Admitted {
  /** The readings cut down to values not accepted before; readings with nothing new are left out. */
  fresh: Reading[];
  /** Values already accepted (device, metric, ts seen before). */
  duplicates: number;
}

export interface ReadingLedger {
  /** Claims the new values of readings of one device and reports the rest as duplicates. */
  admit(readings: Reading[]): Admitted | Promise<Admitted>;
  /** What the store already held for each device at start (its newest ts): older keys are looked up there. */
  seed(newest: Iterable<{ device: string; ts: number }>): void;
  /**
   * Values accepted before this start that the store cannot show yet (waiting in the outbox for InfluxDB): known as
   * accepted from now on, within the same memory bound as any other. Returns how many keys were taken.
   */
  remember(keys: Iterable<ReadingKey>): number;
  /** Values whose write failed: they were not accepted, so a resend must be taken. */
  forget(readings: Reading[]): void;
  /** Keys held, for the memory bound in tests and metrics. */
  size(): number;
}

const BIT = new Map(METRIC_NAMES.map((m, i) => [m, 1 << i]));
if (METRIC_NAMES.length > 30) throw new Error('ingest/ledger.ts keeps one bit per metric in a 31-bit integer: widen the mask');

/**
 * Keys of one device, (ts, metric bits) ascending by ts, taken away only from the front: plain number arrays with a
 * head index (no shift per removal, no object or boxed number per key), compacted once the removed part is large.
 */
class KeyList {
  ts: number[] = [];
  bits: number[] = [];
  head = 0;
  /** The bits of the key popFront() took. */
  poppedBits = 0;

  get size(): number {
    return this.ts.length - this.head;
  }

  lastTs(): number {
    return this.ts[this.ts.length - 1];
  }

  private lowerBound(ts: number): number {
    let lo = this.head;
    let hi = this.ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ts[mid] < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(ts: number): number | undefined {
    const i = this.lowerBound(ts);
    return i < this.ts.length && this.ts[i] === ts ? this.bits[i] : undefined;
  }

  /** Adds the bits to the key; true when the key is new. */
  add(ts: number, bits: number): boolean {
    const n = this.ts.length;
    if (n === this.head || ts > this.ts[n - 1]) {
      this.ts.push(ts);
      this.bits.push(bits);
      return true;
    }
    const i = this.lowerBound(ts);
    if (i < n && this.ts[i] === ts) {
      this.bits[i] |= bits;
      return false;
    }
    this.ts.splice(i, 0, ts);
    this.bits.splice(i, 0, bits);
    return true;
  }

  /** Adds the bits to the key if it is held; false if it is not. */
  merge(ts: number, bits: number): boolean {
    const i = this.lowerBound(ts);
    if (i >= this.ts.length || this.ts[i] !== ts) return false;
    this.bits[i] |= bits;
    return true;
  }

  clear(ts: number, bits: number): void {
    const i = this.lowerBound(ts);
    if (i < this.ts.length && this.ts[i] === ts) this.bits[i] &= ~bits;
  }

  /** Takes the oldest key away and returns its ts (its bits in poppedBits). */
  popFront(): number {
    const ts = this.ts[this.head];
    this.poppedBits = this.bits[this.head];
    this.head++;
    if (this.head >= 64 && this.head * 2 >= this.ts.length) {
      this.ts.splice(0, this.head);
      this.bits.splice(0, this.head);
      this.head = 0;
    }
    return ts;
  }
}

interface DeviceKeys {
  /** The newest keys, at most perDevice. */
  window: KeyList;
  /** Keys at or below this ts may exist without being held here (pushed out, or stored before start). */
  floor: number;
  /** This device's keys in the farm-wide overflow (created when its window first spills). */
  spilled?: KeyList;
}

function bitOf(metric: string): number {
  return BIT.get(metric) ?? 0;
}

export function createReadingLedger(options: LedgerOptions = {}): ReadingLedger {
  const perDevice = options.perDevice ?? 256;
  const overflowMax = options.overflow ?? 65_536;
  const devices = new Map<string, DeviceKeys>();
  const seeded = new Map<string, number>();
  // The overflow: keys pushed out of the per-device windows, kept in their device's `spilled` list, at most
  // overflowMax farm-wide. A ring of devices in the order they spilled says whose turn it is to lose its oldest key
  // when the overflow is full.
  const ring = new Array<DeviceKeys | undefined>(overflowMax);
  let ringNext = 0;
  let overflowSize = 0;
  let held = 0;

  function keysOf(device: string): DeviceKeys {
    let d = devices.get(device);
    if (!d) devices.set(device, (d = { window: new KeyList(), floor: seeded.get(device) ?? -Infinity }));
    return d;
  }

  /** Bits of (device, ts) known accepted, from the window or the overflow; undefined when neither can tell. */
  function known(d: DeviceKeys, ts: number): number | undefined {
    const w = d.window;
    if (w.size > 0 && ts > w.lastTs()) return ts > d.floor ? 0 : d.spilled?.get(ts);
    const inWindow = w.get(ts);
    const spilled = d.spilled?.get(ts);
    if (inWindow !== undefined) return inWindow | (spilled ?? 0);
    if (spilled !== undefined) return spilled;
    return ts > d.floor ? 0 : undefined;
  }

  function spill(d: DeviceKeys, ts: number, bits: number): void {
    const s = (d.spilled ??= new KeyList());
    if (s.merge(ts, bits)) return;
    const leaving = ring[ringNext];
    if (leaving?.spilled) {
      leaving.spilled.popFront();
      overflowSize--;
      if (leaving.spilled.size === 0 && leaving !== d) leaving.spilled = undefined;
    }
    ring[ringNext] = d;
    ringNext = (ringNext + 1) % overflowMax;
    s.add(ts, bits);
    overflowSize++;
  }

  function claim(d: DeviceKeys, ts: number, bits: number): void {
    if (d.window.add(ts, bits)) held++;
    if (d.window.size > perDevice) {
      const oldTs = d.window.popFront();
      held--;
      if (oldTs > d.floor) d.floor = oldTs;
      spill(d, oldTs, d.window.poppedBits);
    }
  }

  /** Splits one reading by the bits already accepted; claims the rest. */
  function split(r: Reading, d: DeviceKeys, have: number, out: Admitted): void {
    let fresh: Record<string, number> | undefined;
    let bits = 0;
    const dupsBefore = out.duplicates;
    for (const metric in r.metrics) {
      const bit = bitOf(metric);
      if (bit !== 0 && (have & bit) !== 0) {
        out.duplicates++;
        continue;
      }
      (fresh ??= {})[metric] = r.metrics[metric];
      bits |= bit;
    }
    if (!fresh) return;
    claim(d, r.ts, bits);
    out.fresh.push(out.duplicates === dupsBefore ? r : { ...r, metrics: fresh });
  }

  function admit(readings: Reading[]): Admitted | Promise<Admitted> {
    const out: Admitted = { fresh: [], duplicates: 0 };
    let unknown: Reading[] | undefined;
    for (const r of readings) {
      const d = keysOf(r.device);
      const have = known(d, r.ts);
      if (have === undefined) (unknown ??= []).push(r);
      else split(r, d, have, out);
    }
    if (!unknown) return out;
    return resolveUnknown(unknown, out);
  }

  async function resolveUnknown(readings: Reading[], out: Admitted): Promise<Admitted> {
    // Claim before asking the store, so a copy arriving while it answers is a duplicate of this one.
    const pending = readings.map((r) => {
      const d = keysOf(r.device);
      const before = known(d, r.ts) ?? 0;
      let bits = 0;
      for (const metric in r.metrics) bits |= bitOf(metric);
      claim(d, r.ts, bits & ~before);
      return { r, d, before };
    });
    const byDevice = new Map<string, { from: number; to: number }>();
    for (const { r } of pending) {
      const span = byDevice.get(r.device);
      byDevice.set(r.device, { from: Math.min(span?.from ?? Infinity, r.ts), to: Math.max(span?.to ?? -Infinity, r.ts) });
    }
    const stored = new Map<string, number>();
    if (options.lookup) {
      for (const [device, { from, to }] of byDevice) {
        try {
          for (const k of await options.lookup(device, from, to)) {
            const key = `${device}\u0000${k.ts}`;
            stored.set(key, (stored.get(key) ?? 0) | bitOf(k.metric));
          }
        } catch {
          // The store cannot tell (unreachable): take the values; it keeps one point per key anyway.
        }
      }
    }
    for (const { r, d, before } of pending) split(r, d, before | (stored.get(`${r.device}\u0000${r.ts}`) ?? 0), out);
    return out;
  }

  return {
    admit,
    seed(newest) {
      for (const { device, ts } of newest) {
        seeded.set(device, Math.max(seeded.get(device) ?? -Infinity, ts));
        const d = devices.get(device);
        if (d && ts > d.floor) d.floor = ts;
      }
    },
    remember(keys) {
      let taken = 0;
      for (const k of keys) {
        let bits = 0;
        for (const metric of k.metrics) bits |= bitOf(metric);
        if (bits === 0) continue;
        claim(keysOf(k.device), k.ts, bits);
        taken++;
      }
      return taken;
    },
    forget(readings) {
      for (const r of readings) {
        const d = devices.get(r.device);
        let bits = 0;
        for (const metric in r.metrics) bits |= bitOf(metric);
        if (!d) continue;
        d.spilled?.clear(r.ts, bits);
        d.window.clear(r.ts, bits);
      }
    },
    size: () => held + overflowSize,
  };
}

/**
 * A ledger backed by a store: older keys are looked up there, and `seed` reads what it held at start. Used by
 * ingest, and in split mode by the rules and dashboard processes on the readings they import (cluster/event-bridge.ts),
 * since two ingest processes behind a shared subscription can each take one copy of a value.
 */
export function createStoreLedger(
  store: Pick<Store, 'raw' | 'latest'>,
  options: Omit<LedgerOptions, 'lookup'> = {},
): ReadingLedger & { seedFromStore(): Promise<void> } {
  const ledger = createReadingLedger({ ...options, lookup: (device, from, to) => store.raw({ device, from, to: to + 1, limit: 1_000_000 }) });
  return { ...ledger, seedFromStore: async () => ledger.seed(await store.latest()) };
}
