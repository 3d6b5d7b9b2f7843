import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertEvent, Reading, TagRead, ZoneKind } from '../../core/domain.js';
import type { CommandRecord, Store } from '../../store/store.js';

/**
 * What every store must do, from the point of view of the dashboard, the rules and an operator:
 * run against the embedded store and InfluxDB alike (store/store.ts promises this).
 */
export interface StoreUnderTest {
  store: Store;
  /** A second store on the same data (same dir / database), as after a restart of the service. */
  reopen(): Promise<Store>;
  cleanup(): Promise<void>;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Recent, hour-aligned: inside InfluxDB's latest() look-back, and bucket edges are easy to reason about. */
export const BASE = Math.floor(Date.now() / HOUR) * HOUR - 2 * 24 * HOUR;

const PLACES: Record<string, { site: string; zone: string; kind: ZoneKind }> = {
  'shed-1-env': { site: 'huyang', zone: 'shed-1', kind: 'shed' },
  'shed-2-env': { site: 'huyang', zone: 'shed-2', kind: 'shed' },
  'drain-a-1': { site: 'city', zone: 'drain-a', kind: 'drain' },
};

export function reading(device: string, ts: number, metrics: Record<string, number>): Reading {
  return { ...PLACES[device], device, ts, metrics };
}

export function alert(overrides: Partial<AlertEvent> & { id: string; ts: number }): AlertEvent {
  return {
    rule: 'shed-ammonia',
    site: 'huyang',
    zone: 'shed-1',
    device: 'shed-1-env',
    severity: 'warning',
    state: 'raised',
    level: null,
    value: 23.5,
    metric: 'nh3',
    message: 'Ammonia 23.5 ppm in shed-1',
    ...overrides,
  };
}

export function commandRecord(device: string, ts: number, outcome: CommandRecord['outcome'] = 'sent'): CommandRecord {
  return { ...PLACES[device], device, ts, outcome, command: { id: `cmd-${device}-${ts}`, action: 'on', reason: 'rule:shed-ammonia', ts } };
}

export function tagRead(device: 'shed-1-gate' | 'shed-2-gate' | 'shed-1-feeder', tag: string, ts: number, direction?: 'in' | 'out'): TagRead {
  const zone = device.startsWith('shed-1') ? 'shed-1' : 'shed-2';
  const r: TagRead = { site: 'huyang', zone, kind: 'shed', device, ts, tag };
  if (direction) r.direction = direction;
  return r;
}

const EWE = '982000123456789';
const RAM = '982000123456790';
const EPC = 'E2801160600002084E3C1A2B';

/** A known temperature series: two sheds, several 10-minute buckets, one empty bucket. */
const SERIES: Reading[] = [
  reading('shed-1-env', BASE, { temperature: 20 }),
  reading('shed-1-env', BASE + 5 * MIN, { temperature: 22 }),
  reading('shed-1-env', BASE + 10 * MIN, { temperature: 24 }),
  reading('shed-1-env', BASE + 15 * MIN, { temperature: 26.5 }),
  reading('shed-1-env', BASE + 30 * MIN, { temperature: 30 }), // nothing in [20, 30) min
  reading('shed-2-env', BASE + 1 * MIN, { temperature: 10 }),
  reading('shed-2-env', BASE + 2 * MIN, { temperature: 11 }),
  reading('shed-2-env', BASE + 11 * MIN, { temperature: 12 }),
  reading('drain-a-1', BASE + 3 * MIN, { temperature: 15, water_level: 1.25 }),
];
const EVERY = 10 * MIN;
const ALL = { metric: 'temperature', from: BASE, to: BASE + HOUR, everyMs: EVERY };

export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`${name} store contract`, () => {
    let sut: StoreUnderTest;
    let store: Store;
    beforeEach(async () => {
      sut = await makeStore();
      store = sut.store;
    });
    afterEach(async () => {
      await sut.cleanup();
    });

    it('reads back a written reading with exactly the values sent', async () => {
      await store.writeReadings([reading('shed-1-env', BASE + 1234, { temperature: 21.5, humidity: 63.2, nh3: 12.125 })]);
      const points = await store.raw({ device: 'shed-1-env', from: BASE, to: BASE + MIN });
      expect(points).toEqual([
        { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', metric: 'humidity', value: 63.2, ts: BASE + 1234 },
        { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', metric: 'nh3', value: 12.125, ts: BASE + 1234 },
        { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', metric: 'temperature', value: 21.5, ts: BASE + 1234 },
      ]);
    });

    it('aggregates history into mean/min/max/count buckets per device and drops empty buckets', async () => {
      await store.writeReadings(SERIES);
      const series = await store.history({ ...ALL, site: 'huyang' });
      expect(series).toEqual([
        {
          device: 'shed-1-env',
          buckets: [
            { ts: BASE, mean: 21, min: 20, max: 22, count: 2 },
            { ts: BASE + 10 * MIN, mean: 25.25, min: 24, max: 26.5, count: 2 },
            { ts: BASE + 30 * MIN, mean: 30, min: 30, max: 30, count: 1 },
          ],
        },
        {
          device: 'shed-2-env',
          buckets: [
            { ts: BASE, mean: 10.5, min: 10, max: 11, count: 2 },
            { ts: BASE + 10 * MIN, mean: 12, min: 12, max: 12, count: 1 },
          ],
        },
      ]);
    });

    it('filters history, latest and raw by site, zone and device', async () => {
      await store.writeReadings(SERIES);
      const devices = async (q: object) => (await store.history({ ...ALL, ...q })).map((s) => s.device);
      expect(await devices({})).toEqual(['drain-a-1', 'shed-1-env', 'shed-2-env']);
      expect(await devices({ site: 'city' })).toEqual(['drain-a-1']);
      expect(await devices({ site: 'huyang', zone: 'shed-2' })).toEqual(['shed-2-env']);
      expect(await devices({ device: 'shed-1-env' })).toEqual(['shed-1-env']);
      expect(await devices({ site: 'nowhere' })).toEqual([]);
      expect(await store.history({ ...ALL, metric: 'water_level' })).toEqual([
        { device: 'drain-a-1', buckets: [{ ts: BASE, mean: 1.25, min: 1.25, max: 1.25, count: 1 }] },
      ]);

      expect(new Set((await store.latest({ site: 'huyang' })).map((v) => v.device))).toEqual(new Set(['shed-1-env', 'shed-2-env']));
      expect((await store.latest({ zone: 'drain-a' })).map((v) => v.metric).sort()).toEqual(['temperature', 'water_level']);
      expect((await store.latest({ device: 'shed-2-env' })).map((v) => v.value)).toEqual([12]);

      const raw = await store.raw({ zone: 'shed-2', metric: 'temperature', from: BASE, to: BASE + HOUR });
      expect(raw.map((p) => p.value)).toEqual([10, 11, 12]);
    });

    it('keeps a site name with quotes from changing the query', async () => {
      await store.writeReadings(SERIES);
      expect(await store.history({ ...ALL, site: "x' OR site = 'huyang" })).toEqual([]);
      expect(await store.raw({ site: "huyang' OR '1'='1", from: BASE, to: BASE + HOUR })).toEqual([]);
      expect(await store.latest({ device: 'x" OR "1"="1' })).toEqual([]);
    });

    it('treats the time range as [from, to): the start is included, the end is not', async () => {
      await store.writeReadings([
        reading('shed-1-env', BASE - 1, { temperature: 1 }),
        reading('shed-1-env', BASE, { temperature: 2 }),
        reading('shed-1-env', BASE + HOUR - 1, { temperature: 3 }),
        reading('shed-1-env', BASE + HOUR, { temperature: 4 }),
      ]);
      const raw = await store.raw({ device: 'shed-1-env', from: BASE, to: BASE + HOUR });
      expect(raw.map((p) => p.value)).toEqual([2, 3]);
      const [series] = await store.history({ ...ALL, everyMs: HOUR });
      expect(series.buckets).toEqual([{ ts: BASE, mean: 2.5, min: 2, max: 3, count: 2 }]);
    });

    it('reports the latest value of each device and metric with the time it was measured', async () => {
      await store.writeReadings([
        reading('shed-1-env', BASE + 1000, { temperature: 20, humidity: 60 }),
        reading('shed-1-env', BASE + 2000, { temperature: 21 }),
        reading('shed-2-env', BASE + 1500, { temperature: 18 }),
      ]);
      // A store-and-forward batch arriving late with older readings must not move "latest" back.
      await store.writeReadings([reading('shed-1-env', BASE + 500, { temperature: 5, humidity: 50 })]);
      const latest = await store.latest();
      expect(latest).toEqual([
        { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', metric: 'humidity', value: 60, ts: BASE + 1000 },
        { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', metric: 'temperature', value: 21, ts: BASE + 2000 },
        { site: 'huyang', zone: 'shed-2', kind: 'shed', device: 'shed-2-env', metric: 'temperature', value: 18, ts: BASE + 1500 },
      ]);
    });

    it('returns raw points in time order, up to the limit', async () => {
      const shuffled = [5, 1, 4, 2, 3].map((i) => reading('shed-1-env', BASE + i * 1000, { nh3: i }));
      await store.writeReadings(shuffled);
      const raw = await store.raw({ metric: 'nh3', from: BASE, to: BASE + HOUR });
      expect(raw.map((p) => p.ts)).toEqual([1, 2, 3, 4, 5].map((i) => BASE + i * 1000));
      expect((await store.raw({ metric: 'nh3', from: BASE, to: BASE + HOUR, limit: 2 })).map((p) => p.value)).toEqual([1, 2]);
    });

    it("adds up an increment (rain_mm) in each bucket and cuts day buckets at the site's local midnight", async () => {
      // Rain every hour from local midnight of 24 October across Europe/Berlin's autumn change (clocks back at
      // 01:00 UTC on 25 October 2026), 0.5 mm each.
      const t0 = Date.UTC(2026, 9, 23, 22);
      const rain = Array.from({ length: 72 }, (_, i) => reading('drain-a-1', t0 + i * HOUR, { rain_mm: 0.5 }));
      await store.writeReadings(rain);
      const q = { device: 'drain-a-1', metric: 'rain_mm', from: t0, to: t0 + 72 * HOUR, everyMs: 24 * HOUR };
      const days = (series: { buckets: { ts: number; sum?: number; count: number }[] }[]) =>
        series[0].buckets.map((b) => [new Date(b.ts).toISOString(), b.sum, b.count]);
      // Local midnights: 25 October is 25 h long (22:00 UTC to 23:00 UTC the next day).
      expect(days(await store.history({ ...q, timeZone: 'Europe/Berlin' }))).toEqual([
        ['2026-10-23T22:00:00.000Z', 12, 24],
        ['2026-10-24T22:00:00.000Z', 12.5, 25],
        ['2026-10-25T23:00:00.000Z', 11.5, 23],
      ]);
      expect(days(await store.history({ ...q, timeZone: 'Asia/Shanghai' })).map((d) => d[0])).toEqual([
        '2026-10-23T16:00:00.000Z',
        '2026-10-24T16:00:00.000Z',
        '2026-10-25T16:00:00.000Z',
        '2026-10-26T16:00:00.000Z',
      ]);
      expect(days(await store.history(q)).map((d) => d[0])).toEqual([
        '2026-10-23T00:00:00.000Z',
        '2026-10-24T00:00:00.000Z',
        '2026-10-25T00:00:00.000Z',
        '2026-10-26T00:00:00.000Z',
      ]);
      // A level has no sum; buckets under an hour are cut in UTC whatever the zone.
      await store.writeReadings([reading('drain-a-1', t0 + 20 * MIN, { water_level: 1 })]);
      const [level] = await store.history({ ...q, metric: 'water_level', everyMs: 30 * MIN, timeZone: 'Asia/Kolkata' });
      expect(level.buckets).toEqual([{ ts: t0, mean: 1, min: 1, max: 1, count: 1 }]);
    });

    it('counts a reading written twice (a device resending) only once', async () => {
      await store.writeReadings(SERIES);
      await store.writeReadings(SERIES);
      await store.writeReadings([SERIES[0]]);
      const series = await store.history({ ...ALL, everyMs: HOUR });
      expect(series.map((s) => [s.device, s.buckets[0].count])).toEqual([
        ['drain-a-1', 1],
        ['shed-1-env', 5],
        ['shed-2-env', 3],
      ]);
      expect(await store.raw({ metric: 'temperature', from: BASE, to: BASE + HOUR })).toHaveLength(SERIES.length);
    });

    it('keeps alert events, newest first, filtered by site and time, even two in the same millisecond', async () => {
      const events = [
        alert({ id: 'a1', ts: BASE + 1000 }),
        alert({ id: 'a2', ts: BASE + 2000, device: 'shed-1-env', level: 'orange', state: 'escalated', message: 'line one\nit\'s "quoted"' }),
        alert({ id: 'a3', ts: BASE + 2000, device: 'shed-1-env-b', state: 'escalated' }),
        alert({
          id: 'a4',
          ts: BASE + 3000,
          site: 'city',
          zone: 'drain-a',
          rule: 'pipe-fill',
          severity: 'critical',
          device: undefined,
          value: null,
          metric: null,
          by: 'ops',
          state: 'acknowledged',
        }),
      ].map((e) => JSON.parse(JSON.stringify(e)) as AlertEvent);
      await store.writeAlerts(events);
      const all = await store.alerts({});
      expect(all.map((e) => e.id)).toHaveLength(4);
      expect(all[0]).toEqual(events[3]);
      expect(all.slice(1, 3)).toEqual(expect.arrayContaining([events[1], events[2]]));
      expect(all[3]).toEqual(events[0]);
      expect((await store.alerts({ site: 'huyang' })).map((e) => e.id).sort()).toEqual(['a1', 'a2', 'a3']);
      expect((await store.alerts({ from: BASE + 1500, to: BASE + 3000 })).map((e) => e.id).sort()).toEqual(['a2', 'a3']);
      expect(await store.alerts({ limit: 1 })).toEqual([events[3]]);
    });

    it('reads an alert event stored without level, value and metric (older versions left them out) with them null', async () => {
      const { level: _l, value: _v, metric: _m, ...old } = alert({ id: 'old', ts: BASE + 1000 });
      await store.writeAlerts([old as AlertEvent]);
      expect(await store.alerts({})).toEqual([{ ...old, level: null, value: null, metric: null }]);
    });

    it('keeps command records, newest first, filtered by device and site', async () => {
      const records = [
        commandRecord('shed-1-env', BASE + 1000),
        commandRecord('shed-1-env', BASE + 2000, 'acked'),
        commandRecord('drain-a-1', BASE + 1500, 'failed'),
      ];
      await store.writeCommands(records);
      expect(await store.commands({})).toEqual([records[1], records[2], records[0]]);
      expect(await store.commands({ device: 'shed-1-env' })).toEqual([records[1], records[0]]);
      expect(await store.commands({ site: 'city' })).toEqual([records[2]]);
      expect(await store.commands({ from: BASE + 1200, limit: 1 })).toEqual([records[1]]);
    });

    it("keeps ear-tag reads: an animal's reads newest first, filtered by tag, place, reader and time", async () => {
      const reads = [
        tagRead('shed-1-gate', EWE, BASE + 1000, 'out'),
        tagRead('shed-1-gate', RAM, BASE + 1000, 'out'), // a burst: two animals in the same millisecond
        tagRead('shed-1-gate', EPC, BASE + 1000, 'out'),
        tagRead('shed-2-gate', EWE, BASE + 2000, 'in'),
        tagRead('shed-1-feeder', RAM, BASE + 3000),
      ];
      await store.writeTagReads(reads);
      const all = { from: BASE, to: BASE + HOUR };
      expect(await store.tagReads({ ...all, tag: EWE })).toEqual([reads[3], reads[0]]);
      expect(await store.tagReads({ ...all, tag: RAM })).toEqual([reads[4], reads[1]]);
      expect((await store.tagReads({ ...all, device: 'shed-1-gate' })).map((r) => r.tag).sort()).toEqual([EWE, RAM, EPC].sort());
      expect((await store.tagReads({ ...all, zone: 'shed-2' })).map((r) => r.tag)).toEqual([EWE]);
      expect(await store.tagReads({ ...all, site: 'city' })).toEqual([]);
      expect((await store.tagReads({ tag: EWE, from: BASE + 1000, to: BASE + 2000 })).map((r) => r.ts)).toEqual([BASE + 1000]);
      expect(await store.tagReads({ ...all, limit: 2 })).toEqual([reads[4], reads[3]]);
      expect(await store.tagReads({ ...all, tag: "x' OR '1'='1" })).toEqual([]);
    });

    it('stores a tag read delivered twice once, the first one standing', async () => {
      const read = tagRead('shed-1-gate', EWE, BASE + 1000, 'in');
      await store.writeTagReads([read]);
      await store.writeTagReads([read, read]);
      expect(await store.tagReads({ tag: EWE, from: BASE, to: BASE + HOUR })).toEqual([read]);
    });

    it('gives each tag its newest read and newest gate read, which a late older read does not move back', async () => {
      await store.writeTagReads([
        tagRead('shed-1-gate', EWE, BASE + 1000, 'out'),
        tagRead('shed-2-gate', EWE, BASE + 5000, 'in'),
        tagRead('shed-1-feeder', EWE, BASE + 9000),
      ]);
      await store.writeTagReads([tagRead('shed-1-gate', RAM, BASE + 2000, 'in')]);
      // A reader's buffer sent after it reconnected: older than what is known.
      await store.writeTagReads([tagRead('shed-1-gate', EWE, BASE + 3000, 'in'), tagRead('shed-1-feeder', RAM, BASE + 500)]);
      const byTag = new Map((await store.tagPositions(BASE)).map((p) => [p.tag, p]));
      expect(byTag.get(EWE)).toEqual({ tag: EWE, last: tagRead('shed-1-feeder', EWE, BASE + 9000), lastGate: tagRead('shed-2-gate', EWE, BASE + 5000, 'in') });
      expect(byTag.get(RAM)).toEqual({
        tag: RAM,
        last: tagRead('shed-1-gate', RAM, BASE + 2000, 'in'),
        lastGate: tagRead('shed-1-gate', RAM, BASE + 2000, 'in'),
      });
      expect(byTag.size).toBe(2);
      expect((await store.tagPositions(BASE + 4000)).map((p) => p.tag)).toEqual([EWE]);
    });

    it("still has the tag reads and every animal's position after the service restarts on the same data", async () => {
      await store.writeTagReads([tagRead('shed-1-gate', EWE, BASE + 1000, 'in'), tagRead('shed-1-feeder', RAM, BASE + 2000)]);
      await store.close();
      store = await sut.reopen();
      sut.store = store;
      expect((await store.tagReads({ from: BASE, to: BASE + HOUR })).map((r) => r.tag)).toEqual([RAM, EWE]);
      const positions = await store.tagPositions(BASE);
      expect(positions.find((p) => p.tag === EWE)?.lastGate).toEqual(tagRead('shed-1-gate', EWE, BASE + 1000, 'in'));
      expect(positions.find((p) => p.tag === RAM)?.lastGate).toBeUndefined();
    });

    it('still has readings, latest values and alerts after the service restarts on the same data', async () => {
      await store.writeReadings(SERIES);
      await store.writeAlerts([alert({ id: 'a1', ts: BASE })]);
      await store.close();
      store = await sut.reopen();
      expect(await store.raw({ metric: 'temperature', from: BASE, to: BASE + HOUR })).toHaveLength(SERIES.length);
      expect((await store.latest({ device: 'shed-1-env' }))[0]).toMatchObject({ metric: 'temperature', value: 30, ts: BASE + 30 * MIN });
      expect((await store.alerts({})).map((e) => e.id)).toEqual(['a1']);
      sut.store = store; // so cleanup closes the reopened one
    });
  });
}
