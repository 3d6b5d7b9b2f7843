import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHerd, type Herd } from '../../animals/herd.js';
import { FarmConfig } from '../../core/config/schema.js';
import type { AlertEvent, TagRead } from '../../core/domain.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createRulesEngine, type RulesEngine } from '../../rules/engine.js';
import { createFakeClock, type FakeClock } from '../rules/fake-clock.js';
import { createMemoryStore, type MemoryStore } from '../rules/memory-store.js';

const T0 = Date.parse('2026-03-02T06:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const tag = (i: number) => `982000${String(1_000_000_000 + i).slice(1)}`;

/** Two sheds of 4 sheep each, a gate reader at each and a feeder reader in shed-1. */
const config = FarmConfig.parse({
  sites: [
    {
      id: 'huyang',
      zones: [
        {
          id: 'shed-1',
          kind: 'shed',
          attributes: { headCount: 4 },
          devices: [
            { id: 'shed-1-gate', role: 'reader' },
            { id: 'shed-1-feeder', role: 'reader', at: 'feeder' },
          ],
        },
        { id: 'shed-2', kind: 'shed', attributes: { headCount: 4 }, devices: [{ id: 'shed-2-gate', role: 'reader' }] },
        // Expected 50, but nothing counts it: never a head-count alert.
        { id: 'shed-3', kind: 'shed', attributes: { headCount: 50 }, devices: [{ id: 'shed-3-feeder', role: 'reader', at: 'feeder' }] },
      ],
    },
  ],
  animals: {
    missingAfter: '24h',
    register: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ tag: tag(i), group: i <= 4 ? 'ewes' : 'lambs', zone: i <= 4 ? 'shed-1' : 'shed-2' })),
  },
});
const farm = indexFarm(config);

function world(store: MemoryStore = createMemoryStore(), clock: FakeClock = createFakeClock(T0), dataDir?: string) {
  const bus = new FarmBus();
  const herd = createHerd({ config, farm, store, bus, logger: silentLogger(), clock, dataDir });
  const alerts: AlertEvent[] = [];
  bus.on('alert', (a) => alerts.push(a));
  const heads: string[] = [];
  bus.on('headCount', (h) => heads.push(`${h.zone}:${h.headCount}/${h.out}`));
  /** Reads as ingest gives them: stored, then emitted. */
  const read = (device: 'shed-1-gate' | 'shed-2-gate' | 'shed-1-feeder', tags: number[], direction?: 'in' | 'out', ts = clock.now()) => {
    const zone = device.startsWith('shed-1') ? 'shed-1' : 'shed-2';
    const reads: TagRead[] = tags.map((i) => ({ site: 'huyang', zone, kind: 'shed', device, ts, tag: tag(i), ...(direction ? { direction } : {}) }));
    void store.writeTagReads(reads);
    bus.emit('tagReads', reads);
  };
  return { store, clock, bus, herd, alerts, heads, read };
}

let engines: RulesEngine[] = [];
/** What the engines published over MQTT (topic, parsed payload). */
const published: { topic: string; payload: AlertEvent }[] = [];
let herds: Herd[] = [];
afterEach(async () => {
  for (const e of engines) await e.stop();
  for (const h of herds) h.stop();
  engines = [];
  herds = [];
});

async function started(w: ReturnType<typeof world>, withRules = false) {
  await w.herd.start();
  herds.push(w.herd);
  if (!withRules) return undefined;
  const publish = async (topic: string, payload: string) => void published.push({ topic, payload: JSON.parse(payload) });
  const engine = createRulesEngine(
    { config, farm, bus: w.bus, store: w.store, clock: w.clock, logger: silentLogger(), publish, herd: w.herd },
    { topicRoot: 'farm' },
  );
  await engine.start();
  engines.push(engine);
  return engine;
}

describe('the herd: where each animal is', () => {
  it('puts a sheep in a shed with an in read at its gate and out at pasture with an out read; head counts follow', async () => {
    const w = world();
    await started(w);
    w.read('shed-1-gate', [1, 2, 3, 4], 'in');
    expect(w.herd.headCount('huyang', 'shed-1')).toMatchObject({ headCount: 4, out: 0 });
    w.clock.advance(MIN);
    w.read('shed-1-gate', [1, 2, 3], 'out');
    expect(w.herd.headCount('huyang', 'shed-1')).toMatchObject({ headCount: 1, out: 3 });
    expect(w.herd.animal(tag(1))).toMatchObject({ location: 'out', zone: 'shed-1', lastSeenBy: 'shed-1-gate', group: 'ewes', home: 'shed-1' });
    // A sheep walking into the other shed is counted there and no longer here.
    w.read('shed-2-gate', [4], 'in');
    expect(w.herd.headCount('huyang', 'shed-1').headCount).toBe(0);
    expect(w.herd.headCount('huyang', 'shed-2').headCount).toBe(1);
    // A feeder read says where it was seen, and moves nothing.
    w.clock.advance(MIN);
    w.read('shed-1-feeder', [4]);
    expect(w.herd.animal(tag(4))).toMatchObject({ location: 'in', zone: 'shed-2', lastSeenBy: 'shed-1-feeder', lastSeenZone: 'shed-1' });
    expect(w.heads).toEqual(['shed-1:4/0', 'shed-1:1/3', 'shed-1:0/3', 'shed-2:1/0']);
  });

  it('takes a redelivered read or a late older one without moving anything', async () => {
    const w = world();
    await started(w);
    w.read('shed-1-gate', [1], 'in', T0);
    w.read('shed-1-gate', [1], 'out', T0 + HOUR);
    w.read('shed-1-gate', [1], 'in', T0); // redelivered
    w.read('shed-1-gate', [1], 'in', T0 + 30 * MIN); // a buffer sent late: older than the out read
    expect(w.herd.animal(tag(1))).toMatchObject({ location: 'out', since: T0 + HOUR });
    expect(w.herd.headCount('huyang', 'shed-1')).toMatchObject({ headCount: 0, out: 1 });
  });

  it('keeps and lists a tag the register does not know, counted in the shed it entered', async () => {
    const w = world();
    await started(w);
    w.read('shed-1-gate', [1, 999], 'in');
    expect(w.herd.headCount('huyang', 'shed-1')).toMatchObject({ headCount: 2, unknown: 1 });
    expect(w.herd.list({ show: 'unknown' }).animals).toEqual([
      expect.objectContaining({ tag: tag(999), known: false, location: 'in', zone: 'shed-1', site: 'huyang' }),
    ]);
    expect(w.herd.list({ zone: 'shed-2' }).total).toBe(4); // never read: listed where they belong
  });

  it("rebuilds head counts and every animal's place from the store after a restart", async () => {
    const w = world();
    await started(w);
    w.read('shed-1-gate', [1, 2, 3, 4], 'in');
    w.clock.advance(MIN);
    w.read('shed-1-gate', [1, 2], 'out');
    w.read('shed-2-gate', [5, 6, 7, 8, 1], 'in', w.clock.now() + 1000);
    w.herd.stop();
    const again = world(w.store, w.clock);
    await started(again);
    expect(again.herd.headCounts('huyang').map((h) => [h.zone, h.headCount, h.out])).toEqual([
      ['shed-1', 2, 1],
      ['shed-2', 5, 0],
      ['shed-3', 0, 0],
    ]);
    expect(again.herd.animal(tag(1))).toMatchObject({ location: 'in', zone: 'shed-2' });
    expect(again.herd.animal(tag(2))).toMatchObject({ location: 'out', zone: 'shed-1' });
  });

  it('starts while the store cannot answer, and rebuilds the places once it can', async () => {
    const w = world();
    await started(w);
    w.read('shed-1-gate', [1, 2, 3], 'in');
    w.herd.stop();
    const store = w.store;
    const real = store.tagPositions.bind(store);
    let failing = true;
    store.tagPositions = async (since) => {
      if (failing) throw new Error('InfluxDB is not reachable');
      return real(since);
    };
    const again = world(store, w.clock);
    await started(again); // does not throw
    expect(again.herd.headCount('huyang', 'shed-1').headCount).toBe(0);
    failing = false;
    // The herd asks again every 10 s (a real timer): wait for the count it then emits.
    await new Promise<void>((resolve) => again.bus.on('headCount', (h) => h.zone === 'shed-1' && h.headCount === 3 && resolve()));
    expect(again.herd.headCount('huyang', 'shed-1').headCount).toBe(3);
    expect(again.heads).toContain('shed-1:3/0');
  }, 20_000);

  it('imports a CSV: adds and updates animals, reports every bad line, and keeps the import across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'farm-herd-'));
    try {
      const w = world(createMemoryStore(), createFakeClock(T0), dataDir);
      await started(w);
      const csv = [
        'tag,group,born,sex,zone',
        `${tag(20)},rams,2024-04-01,m,shed-2`,
        `${tag(1)},old-ewes,,f,shed-1`,
        `${tag(21)},rams,2024-13-01,m,shed-2`,
        `${tag(22)},rams,,m,shed-9`,
        `${tag(20)},rams,,m,shed-2`,
        '',
        `${tag(23)},rams`,
      ].join('\n');
      const result = w.herd.importCsv(csv);
      expect(result).toMatchObject({ lines: 6, added: 1, updated: 1, unchanged: 0 });
      expect(result.rejected.map((r) => [r.line, r.reason])).toEqual([
        [4, expect.stringContaining('born')],
        [5, expect.stringContaining('no zone "shed-9"')],
        [6, expect.stringContaining('already on line 2')],
        [8, expect.stringContaining('2 fields')],
      ]);
      w.herd.stop();
      const again = world(createMemoryStore(), createFakeClock(T0), dataDir);
      await started(again);
      expect(again.herd.animal(tag(20))).toMatchObject({ known: true, group: 'rams', sex: 'm', home: 'shed-2' });
      expect(again.herd.animal(tag(1))).toMatchObject({ group: 'old-ewes' });
      expect(() => again.herd.importCsv('id,flock\n1,a')).toThrow(/header line must be tag,group,born,sex,zone/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('herd alerts (through the rules engine)', () => {
  it('raises a warning for a sheep no reader has seen for 24 h, and clears it at its next read', async () => {
    const w = world();
    await started(w, true);
    w.read('shed-1-gate', [1, 2, 3, 4], 'in');
    w.read('shed-2-gate', [5, 6, 7, 8], 'in');
    w.clock.advance(12 * HOUR);
    w.read('shed-1-gate', [1, 2, 3], 'out');
    w.read('shed-2-gate', [5, 6, 7, 8], 'out');
    w.clock.advance(12 * HOUR + 10_000);
    const raised = w.alerts.filter((a) => a.state === 'raised');
    expect(raised).toEqual([
      expect.objectContaining({
        rule: 'system:animal-missing',
        animal: tag(4),
        site: 'huyang',
        zone: 'shed-1',
        severity: 'warning',
        message: expect.stringMatching(/982000000000004.*not read for 1d/),
      }),
    ]);
    // And in Chinese, from the alert's facts: where it was last read, by which reader, how long ago (this farm file
    // names nothing: the ids).
    expect(raised[0].messages?.zh).toBe('羊只失踪：shed-1的 982000000000004（ewes） 已 1天 未被读到；最后一次由 shed-1-gate 在shed-1读到，1天前');
    w.read('shed-1-feeder', [4]);
    w.clock.advance(10_000);
    expect(w.alerts.at(-1)).toMatchObject({ animal: tag(4), state: 'cleared', message: expect.stringMatching(/\(read again by shed-1-feeder\)$/) });
    // Why it cleared, in Chinese too.
    expect(w.alerts.at(-1)!.messages?.zh).toBe(`已解除：${raised[0].messages!.zh}（已被 shed-1-feeder 再次读到）`);
  });

  it('lets a flock graze all day without an alert, and raises one an hour after the evening count-in comes up short', async () => {
    const w = world();
    await started(w, true);
    w.read('shed-1-gate', [1, 2, 3, 4], 'in');
    w.read('shed-2-gate', [5, 6, 7, 8], 'in');
    w.clock.advance(HOUR);
    w.read('shed-1-gate', [1, 2, 3, 4], 'out'); // morning: out to pasture
    w.clock.advance(10 * HOUR); // grazing: the sheds are empty, and that is expected
    expect(w.alerts.filter((a) => a.rule === 'system:head-count')).toEqual([]);
    w.read('shed-1-gate', [1, 2, 3], 'in'); // evening: one did not come back
    w.clock.advance(HOUR - 2000);
    expect(w.alerts.filter((a) => a.rule === 'system:head-count')).toEqual([]);
    w.clock.advance(3000);
    const raised = w.alerts.filter((a) => a.rule === 'system:head-count');
    expect(raised).toEqual([
      expect.objectContaining({
        state: 'raised',
        zone: 'shed-1',
        value: 3,
        severity: 'warning',
        message: expect.stringMatching(/head count of shed-1 is 3, expected 4 \(1 missing\)/),
      }),
    ]);
    // shed-3 expects 50 and counts 0, but has no gate reader: nothing to compare.
    expect(w.alerts.some((a) => a.rule === 'system:animal-missing')).toBe(false);
    // Acknowledged like any alert, then cleared when the straggler comes in.
    const acked = engines[0].acknowledge(raised[0].id, 'ops');
    expect(acked).toMatchObject({ state: 'acknowledged', by: 'ops' });
    w.read('shed-1-gate', [4], 'in');
    w.clock.advance(1000);
    expect(w.alerts.at(-1)).toMatchObject({ id: raised[0].id, state: 'cleared', message: expect.stringMatching(/\(count matches again: 4\)$/) });
    expect(w.alerts.at(-1)!.messages?.zh).toMatch(/^已解除：.*（数量已相符：4）$/);
    // On the zone's alert topic and in the store, each step of its life.
    const states = ['raised', 'acknowledged', 'cleared'];
    expect(published.filter((p) => p.payload.id === raised[0].id).map((p) => [p.topic, p.payload.state])).toEqual(
      states.map((st) => ['farm/huyang/shed-1/alert', st]),
    );
    await engines[0].flush();
    expect(w.store.alertEvents.filter((e) => e.id === raised[0].id).map((e) => e.state)).toEqual(states);
  });

  it('keeps an open head-count alert across a restart of the service, and does not raise it twice', async () => {
    const w = world();
    await started(w, true);
    w.read('shed-1-gate', [1, 2, 3], 'in');
    w.read('shed-2-gate', [5, 6, 7, 8], 'in');
    w.clock.advance(HOUR + 1000);
    const raised = w.alerts.find((a) => a.rule === 'system:head-count')!;
    expect(raised).toMatchObject({ state: 'raised', zone: 'shed-1' });
    await engines[0].flush();
    await engines.pop()!.stop();
    w.herd.stop();
    const again = world(w.store, w.clock);
    const engine = await started(again, true);
    expect(engine!.activeAlerts().map((a) => a.id)).toContain(raised.id);
    again.clock.advance(2 * HOUR);
    expect(again.alerts.filter((a) => a.rule === 'system:head-count' && a.state === 'raised')).toEqual([]);
    again.read('shed-1-gate', [4], 'in');
    again.clock.advance(1000);
    expect(again.alerts.at(-1)).toMatchObject({ id: raised.id, state: 'cleared' });
  });
});
