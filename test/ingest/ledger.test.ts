import { describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import { createReadingLedger } from '../../ingest/ledger.js';

const gauge = (ts: number, metrics: Record<string, number>): Reading => ({
  site: 'xihu-drain',
  zone: 'rain-1',
  kind: 'drain',
  device: 'rain-1-gauge',
  ts,
  metrics,
});

describe('reading ledger: each (device, metric, ts) accepted once', () => {
  it('reports a value sent again as a duplicate, keeps other metrics of the same instant, and the first value', async () => {
    const ledger = createReadingLedger();
    expect(await ledger.admit([gauge(1000, { rain_mm: 6 })])).toEqual({ fresh: [gauge(1000, { rain_mm: 6 })], duplicates: 0 });
    expect(await ledger.admit([gauge(1000, { rain_mm: 6 })])).toEqual({ fresh: [], duplicates: 1 });
    // The same instant with another value is still a duplicate: the first accepted value stands.
    expect(await ledger.admit([gauge(1000, { rain_mm: 9 })])).toEqual({ fresh: [], duplicates: 1 });
    // Another metric of the same device and instant is new.
    expect(await ledger.admit([gauge(1000, { rain_mm: 6, temperature: 20 })])).toEqual({ fresh: [gauge(1000, { temperature: 20 })], duplicates: 1 });
    // A batch with the same reading twice takes it once; late readings are new.
    expect(await ledger.admit([gauge(500, { rain_mm: 1 }), gauge(500, { rain_mm: 1 }), gauge(2000, { rain_mm: 2 })])).toEqual({
      fresh: [gauge(500, { rain_mm: 1 }), gauge(2000, { rain_mm: 2 })],
      duplicates: 1,
    });
  });

  it('takes keys remembered from the outbox as accepted, metric by metric, and never asks the store about them', async () => {
    const asked: number[] = [];
    const ledger = createReadingLedger({ perDevice: 4, overflow: 8, lookup: async (_d, from) => (asked.push(from), []) });
    ledger.seed([{ device: 'rain-1-gauge', ts: 900 }]);
    expect(
      ledger.remember([
        { device: 'rain-1-gauge', ts: 1000, metrics: ['rain_mm'] },
        { device: 'rain-1-gauge', ts: 1100, metrics: ['not-a-metric'] },
      ]),
    ).toBe(1);
    expect(await ledger.admit([gauge(1000, { rain_mm: 6, temperature: 20 })])).toEqual({ fresh: [gauge(1000, { temperature: 20 })], duplicates: 1 });
    // Under the seeded floor too: a remembered key is known, not looked up.
    ledger.remember([{ device: 'rain-1-gauge', ts: 800, metrics: ['rain_mm'] }]);
    expect(await ledger.admit([gauge(800, { rain_mm: 1 })])).toEqual({ fresh: [], duplicates: 1 });
    expect(asked).toEqual([]);
    // The memory bound holds: of 100 more keys, the 4 newest stay in the window and 8 in the overflow.
    ledger.remember(Array.from({ length: 100 }, (_, i) => ({ device: 'rain-1-gauge', ts: 2000 + i, metrics: ['rain_mm'] })));
    expect(ledger.size()).toBe(12);
  });

  it('holds a bounded number of keys and asks the store about older ones', async () => {
    const asked: [number, number][] = [];
    const stored = new Set([1, 2, 3]);
    const ledger = createReadingLedger({
      perDevice: 4,
      overflow: 2,
      lookup: async (_device, from, to) => (
        asked.push([from, to]),
        [...stored].filter((ts) => ts >= from && ts <= to).map((ts) => ({ ts, metric: 'rain_mm' }))
      ),
    });
    for (let ts = 1; ts <= 20; ts++) await ledger.admit([gauge(ts, { rain_mm: 1 })]);
    expect(ledger.size()).toBe(4 + 2);
    expect(asked).toEqual([]); // every one of them newer than anything pushed out: no question needed
    expect(await ledger.admit([gauge(17, { rain_mm: 1 }), gauge(15, { rain_mm: 1 })])).toEqual({ fresh: [], duplicates: 2 }); // held, and in the overflow
    expect(asked).toEqual([]);
    expect(await ledger.admit([gauge(2, { rain_mm: 1 }), gauge(3, { rain_mm: 5 }), gauge(4, { rain_mm: 1 })])).toEqual({
      fresh: [gauge(4, { rain_mm: 1 })],
      duplicates: 2,
    });
    expect(asked).toEqual([[2, 4]]); // one range query for the message
  });

  it('after a restart, recognises what the store held from its newest stored time', async () => {
    const ledger = createReadingLedger({
      lookup: async (_d, from, to) => [1000, 2000].filter((ts) => ts >= from && ts <= to).map((ts) => ({ ts, metric: 'rain_mm' })),
    });
    ledger.seed([{ device: 'rain-1-gauge', ts: 2000 }]);
    expect(await ledger.admit([gauge(1000, { rain_mm: 6 }), gauge(2000, { rain_mm: 6 }), gauge(1500, { rain_mm: 1 }), gauge(3000, { rain_mm: 1 })])).toEqual({
      fresh: [gauge(3000, { rain_mm: 1 }), gauge(1500, { rain_mm: 1 })],
      duplicates: 2,
    });
  });

  it('takes one of two copies that arrive while the store is being asked', async () => {
    let answer: () => void = () => {};
    const ledger = createReadingLedger({ lookup: () => new Promise((resolve) => (answer = () => resolve([]))) });
    ledger.seed([{ device: 'rain-1-gauge', ts: 5000 }]);
    const first = ledger.admit([gauge(1000, { rain_mm: 6 })]);
    const second = ledger.admit([gauge(1000, { rain_mm: 6 })]);
    answer();
    expect([await first, await second]).toEqual([
      { fresh: [gauge(1000, { rain_mm: 6 })], duplicates: 0 },
      { fresh: [], duplicates: 1 },
    ]);
  });

  it('takes a value again after its write failed (it was never accepted)', async () => {
    const ledger = createReadingLedger();
    await ledger.admit([gauge(1000, { rain_mm: 6, temperature: 20 })]);
    ledger.forget([gauge(1000, { rain_mm: 6 })]);
    expect(await ledger.admit([gauge(1000, { rain_mm: 6, temperature: 20 })])).toEqual({ fresh: [gauge(1000, { rain_mm: 6 })], duplicates: 1 });
  });
});
