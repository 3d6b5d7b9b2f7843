import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { SHED1_ENV, SHED1_FAN, startTestService } from '../helpers/service.js';
import type { RejectReason } from '../../core/events.js';

/**
 * Timestamps beyond what a JavaScript Date can hold (±8.64e15 ms), over real MQTT: a device sending nanoseconds,
 * 1e308, -1e308, words, or an ISO year far away. Each such reading is rejected on its own with a reason, the valid
 * readings of the same batch are stored, and the QoS 1 publish is acknowledged (otherwise the device would resend
 * the batch on every reconnect, forever).
 */
let svc: Awaited<ReturnType<typeof startTestService>>;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => svc?.cleanup());

const rejected = () => ({ ...svc.ingest.stats().rejected });
function delta(before: Record<RejectReason, number>, after: Record<RejectReason, number>) {
  return Object.fromEntries(
    Object.entries(after)
      .filter(([k, n]) => n !== before[k as RejectReason])
      .map(([k, n]) => [k, n - before[k as RejectReason]]),
  );
}

describe('timestamps across the whole number line', () => {
  it('rejects each impossible timestamp of a batch, stores the valid readings, and acknowledges the publish', async () => {
    const now = Date.now();
    const before = rejected();
    const device = await connectDevice(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret);
    const batch = {
      readings: [
        { ts: now - 2000, metrics: { nh3: 4 } },
        { ts: now * 1e6, metrics: { nh3: 5 } }, // nanoseconds
        { ts: 1e308, metrics: { nh3: 5 } },
        { ts: -1e308, metrics: { nh3: 5 } },
        { ts: -1, metrics: { nh3: 5 } },
        { ts: 8.64e15 + 1, metrics: { nh3: 5 } }, // one past the largest Date
        { ts: '+275760-09-13T00:00:00.001Z', metrics: { nh3: 5 } },
        { ts: '9999-12-31T23:59:59Z', metrics: { nh3: 5 } },
        { ts: '0001-01-01T00:00:00Z', metrics: { nh3: 5 } },
        { ts: 'NaN', metrics: { nh3: 5 } },
        { ts: 'Infinity', metrics: { nh3: 5 } },
        { ts: '2024-02-30T00:00:00Z', metrics: { nh3: 5 } },
        { ts: now - 1000, metrics: { nh3: 6 } },
      ],
    };
    // publishAsync resolves on the PUBACK: before, the connection closed without one.
    await device.publishAsync(SHED1_ENV.topic, JSON.stringify(batch), { qos: 1 });
    // A JSON number too big for a double is Infinity once parsed: not a time at all.
    await device.publishAsync(SHED1_ENV.topic, `{"ts":1e400,"metrics":{"nh3":5}}`, { qos: 1 });
    expect(device.connected).toBe(true);
    await endClient(device);

    const stored = await svc.store.raw({ device: SHED1_ENV.id, metric: 'nh3', from: 0, to: 8.64e15 });
    expect(stored.map((p) => [p.ts, p.value])).toEqual([
      [now - 2000, 4],
      [now - 1000, 6],
    ]);
    expect(delta(before, rejected())).toEqual({ future_timestamp: 5, stale_timestamp: 3, schema: 4 });
    const details = svc.ingest.rejects().map((r) => r.detail);
    expect(details.some((d) => /readings\[2\]: ts 1e\+308 is in the future: check the device clock/.test(d))).toBe(true);
    expect(details.some((d) => /readings\[3\]: ts -1e\+308 is older than MAX_PAST_AGE/.test(d))).toBe(true);
  });

  it("rejects an actuator state whose timestamp is beyond a Date's range and keeps the connection", async () => {
    const before = rejected();
    const fan = await connectDevice(svc.mqttPort, SHED1_FAN.id, SHED1_FAN.secret);
    await fan.publishAsync(SHED1_FAN.state, JSON.stringify({ state: 'on', value: 40, ts: 1e308 }), { qos: 1, retain: true });
    await fan.publishAsync(SHED1_FAN.state, JSON.stringify({ state: 'on', value: 40, ts: -1e308 }), { qos: 1, retain: true });
    expect(fan.connected).toBe(true);
    await endClient(fan);
    expect(delta(before, rejected())).toEqual({ future_timestamp: 1, stale_timestamp: 1 });
  });
});
