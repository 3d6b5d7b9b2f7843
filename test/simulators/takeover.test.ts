import { afterEach, describe, expect, it } from 'vitest';
import { createSimulatorRunner, type SimulatorRunner } from '../../simulators/runner.js';
import { createTakeoverWatch } from '../../simulators/takeover.js';
import { farm, localTime, SECRET, shedZone } from './fixtures.js';
import { startTestBroker, type TestBroker } from './test-broker.js';

/**
 * Two clients with the same device ids (`npm run simulate` against `npm start`, whose built-in simulator plays the
 * demo farm): the broker closes one connection whenever the other connects. The simulator notices that it is
 * being knocked off again and again, stops, and says to start the service with SIMULATE=false.
 */
let broker: TestBroker | undefined;
const runners: SimulatorRunner[] = [];

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await broker?.close();
  broker = undefined;
});

describe('another client with the same device ids', () => {
  it('a broker restart (each device closed once) is not a fight; the same devices closed again and again are', () => {
    const watch = createTakeoverWatch({ devices: 4 });
    const devices = ['a', 'b', 'c', 'd'];
    expect(devices.map((d) => watch.closed(d, 1000)).some(Boolean)).toBe(false);
    expect(devices.map((d) => watch.closed(d, 5000)).some(Boolean)).toBe(false);
    // A third close of two of the four devices within 30 s: half the fleet is fighting.
    expect(watch.closed('a', 9000)).toBe(false);
    expect(watch.closed('b', 9000)).toBe(true);
    // Closes spread over minutes are a flaky network, not a fight.
    const slow = createTakeoverWatch({ devices: 2 });
    expect([0, 40_000, 80_000, 120_000].flatMap((t) => ['a', 'b'].map((d) => slow.closed(d, t))).some(Boolean)).toBe(false);
  });

  it('two simulators playing the same farm against one broker: they stop and say to start the service with SIMULATE=false', async () => {
    const f = farm({ huyang: [shedZone(1), shedZone(2)] });
    const ids = f.sites.flatMap((s) => s.zones.flatMap((z) => z.devices.map((d) => d.id)));
    broker = await startTestBroker(new Map([...ids.map((d) => [d, SECRET] as const), ['svc', 'service-secret']]));
    for (const seed of [1, 2]) {
      const runner = createSimulatorRunner({
        farm: f,
        brokerUrl: broker.url,
        secrets: () => SECRET,
        scenario: 'normal-day',
        seed,
        speed: 60,
        reportEverySec: 60,
        startTs: localTime(10),
        tickMs: 50,
      });
      runners.push(runner);
      await runner.start();
    }
    // Each is knocked off whenever the other reconnects, and the first to see the pattern stops.
    const first = await Promise.race(runners.map((r) => r.done));
    expect(first.conflict).toMatch(/same device ids/);
    expect(first.conflict).toMatch(/SIMULATE=false/);
  });
});
