import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmConfig } from '../../core/config/schema.js';
import type { AlertEvent } from '../../core/domain.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createNotifications, type Notifications } from '../../notifications/notifications.js';
import { createFakeClock, type FakeClock } from '../rules/fake-clock.js';
import { webhookStandIn, type Receiver } from './receivers.js';

/**
 * The component on an injected clock: repeats, escalation and acknowledgement over half a night take no real time.
 * Its journal is a real SQLite file, reopened by a second component to show what a restart finds; the duty group
 * and phone are real local webhook receivers (standing in for a chat robot and a phone gateway).
 */
const MIN = 60_000;
const T0 = Date.parse('2026-11-30T18:00:00Z');
let dir: string;
let group: Receiver;
let phone: Receiver;

const config = () =>
  FarmConfig.parse({
    sites: [{ id: 'huyang', zones: [{ id: 'shed-1', kind: 'shed', devices: [{ id: 'shed-1-env', role: 'sensor' }] }] }],
    channels: [
      { id: 'group', type: 'webhook', url: `${group.url}/group` },
      { id: 'phone', type: 'webhook', url: `${phone.url}/phone` },
    ],
    notifications: [{ match: { site: 'huyang' }, channels: ['group'], repeat: '30m', escalate: { after: '15m', channels: ['phone'] } }],
  });

function start(clock: FakeClock): { n: Notifications; bus: FarmBus } {
  const cfg = config();
  const bus = new FarmBus();
  const n = createNotifications(
    { config: cfg, farm: indexFarm(cfg), bus, logger: silentLogger(), clock, journalPath: join(dir, 'notifications.db') },
    { tickMs: 1000 },
  );
  n.start();
  return { n, bus };
}

const alert = (over: Partial<AlertEvent> = {}): AlertEvent => ({
  id: 'nh3-a',
  rule: 'shed-ammonia',
  site: 'huyang',
  zone: 'shed-1',
  severity: 'warning',
  level: null,
  state: 'raised',
  value: 26,
  metric: 'nh3',
  message: 'Ammonia 26 ppm',
  ts: T0,
  ...over,
});

/**
 * Moves the clock in 5 s steps and lets every send started in a step finish before the next (the receivers answer
 * at once in real time; one big jump would also pass the 10 s attempt timeout while a request is on the wire).
 */
async function advance(clock: FakeClock, n: Notifications, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 5000) {
    clock.advance(Math.min(5000, left));
    await n.idle();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'farm-notify-'));
  [group, phone] = await Promise.all([webhookStandIn(), webhookStandIn()]);
});
afterAll(async () => {
  await Promise.all([group.close(), phone.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const reasons = (r: Receiver) => r.received.map((x) => x.body.alerts.map((a: { reason: string }) => a.reason).join('+'));

describe('notifications on an injected clock', () => {
  it('raise after the group wait, escalation at 15 min, repeats every 30 min; a restart in between resumes the repeats; an acknowledgement ends them; the clear goes to everyone told', async () => {
    const clock = createFakeClock(T0);
    let { n, bus } = start(clock);
    bus.emit('alert', alert());
    await n.idle();
    await advance(clock, n, 10_000);
    expect(reasons(group)).toEqual(['raised']);
    await advance(clock, n, 15 * MIN);
    expect(reasons(phone)).toEqual(['escalate']);
    await advance(clock, n, 15 * MIN);
    expect(reasons(group)).toEqual(['raised', 'repeat']);
    expect(reasons(phone)).toEqual(['escalate', 'repeat']);

    // Restart: a new component on the same journal picks up the repeat due at T0 + 60 min.
    await n.stop();
    ({ n, bus } = start(clock));
    await advance(clock, n, 30 * MIN);
    expect(reasons(group)).toEqual(['raised', 'repeat', 'repeat']);

    bus.emit('alert', alert({ state: 'acknowledged', by: 'ops', ts: clock.now() }));
    await n.idle();
    await advance(clock, n, 2 * 60 * MIN);
    expect(reasons(group)).toEqual(['raised', 'repeat', 'repeat']);

    bus.emit('alert', alert({ state: 'cleared', ts: clock.now() }));
    await n.idle();
    await advance(clock, n, MIN);
    expect(reasons(group).at(-1)).toBe('cleared');
    expect(reasons(phone).at(-1)).toBe('cleared');
    const history = await n.deliveries({ alert: 'nh3-a' });
    expect(history.every((d) => d.outcome === 'sent')).toBe(true);
    expect(history).toHaveLength(group.received.length + phone.received.length);
    await n.stop();
  });

  it('a channel takes no more than its rate: three sites messages at once go out 10 s apart at 6 a minute', async () => {
    const clock = createFakeClock(T0);
    const cfg = FarmConfig.parse({
      sites: ['a', 'b', 'c'].map((id) => ({ id, zones: [{ id: 'shed-1', kind: 'shed', devices: [{ id: `${id}-env`, role: 'sensor' }] }] })),
      channels: [{ id: 'slow', type: 'webhook', url: `${phone.url}/slow`, ratePerMinute: 6 }],
      notifications: [{ channels: ['slow'] }],
    });
    const bus = new FarmBus();
    const n = createNotifications({ config: cfg, farm: indexFarm(cfg), bus, logger: silentLogger(), clock }, { tickMs: 1000 });
    n.start();
    const before = phone.received.length;
    for (const site of ['a', 'b', 'c']) bus.emit('alert', alert({ id: `${site}-1`, site }));
    await n.idle();
    await advance(clock, n, 10_000); // the group wait: all three are due now
    expect(phone.received.length - before).toBe(1);
    await advance(clock, n, 10_000);
    expect(phone.received.length - before).toBe(2);
    await advance(clock, n, 10_000);
    expect(phone.received.length - before).toBe(3);
    expect(
      phone.received
        .slice(before)
        .map((r) => r.body.site)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    await n.stop();
  });
});
