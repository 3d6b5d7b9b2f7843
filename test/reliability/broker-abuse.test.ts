import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { SHED1_ENV, SHED2_ENV, startTestService } from '../helpers/service.js';
import { connectPacket, packet, rawSocket, socketClosed } from '../helpers/raw-mqtt.js';
import { waitFor } from '../helpers/ports.js';

/** Malformed packets, abrupt disconnects and a flooding client on real sockets: the broker keeps serving. */
let svc: Awaited<ReturnType<typeof startTestService>>;
beforeAll(async () => {
  // Hundreds of connections of one device in seconds would count as a reconnect loop (connection-limits.test.ts): not what this file tests.
  svc = await startTestService({ env: { MQTT_RATE_LIMIT: '50', MQTT_RATE_BURST: '100', MQTT_MAX_CONNECTS_PER_MINUTE: '100000' } });
});
afterAll(() => svc?.cleanup());

async function stillServes() {
  const ts = Date.now() - Math.floor(Math.random() * 100_000);
  const device = await connectDevice(svc.mqttPort, SHED2_ENV.id, SHED2_ENV.secret);
  await device.publishAsync(SHED2_ENV.topic, JSON.stringify({ ts, metrics: { nh3: 2 } }), { qos: 1 });
  await endClient(device);
  return (await svc.store.raw({ device: SHED2_ENV.id, metric: 'nh3', from: ts, to: ts + 1 })).length === 1;
}

describe('malformed MQTT on the raw socket', () => {
  it('shrugs off random bytes, truncated packets, bad lengths and abrupt disconnects', async () => {
    const connect = () => connectPacket(SHED1_ENV.id, SHED1_ENV.id, SHED1_ENV.secret);
    const publish = (topic: Buffer, flags = 0x30) => Buffer.concat([Buffer.from([flags, 2 + topic.length + 2, 0, topic.length]), topic, Buffer.from('{}')]);
    // Packets the broker must answer by closing the connection at once.
    const closesAtOnce = [
      Buffer.from([0x00, 0x00]), // reserved packet type 0 as the first packet
      Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]), // remaining length beyond the MQTT maximum
      Buffer.concat([connect(), Buffer.from([0xf0, 0x00])]), // reserved packet type 15
      Buffer.concat([connect(), connect()]), // a second CONNECT on one connection [MQTT-3.1.0-2]
      Buffer.from(connect()).fill(7, 8, 9), // protocol level 7
      Buffer.concat([connect(), publish(Buffer.from(SHED1_ENV.topic), 0x36)]), // PUBLISH with QoS 3
      Buffer.concat([connect(), Buffer.from([0x82, 6, 0, 1, 0, 1, 0x61, 3])]), // SUBSCRIBE asking for QoS 3
      Buffer.concat([connect(), Buffer.from([0x80, 6, 0, 1, 0, 1, 0x61, 1])]), // SUBSCRIBE with reserved flags 0000
      Buffer.concat([connect(), publish(Buffer.from(`${SHED1_ENV.topic}\u0000`))]), // NUL in the topic
      Buffer.concat([connect(), publish(Buffer.from([0x66, 0xff, 0xfe, 0x2f, 0x61]))]), // topic that is not UTF-8
    ];
    // Packets that leave the broker waiting (for the rest of a packet, or with a refused subscription): the client hangs up.
    const leftHanging = [
      randomBytes(64),
      connect().subarray(0, 9), // truncated CONNECT
      Buffer.from([0x30, 0x05, 0x00, 0x10, 0x61]), // PUBLISH before CONNECT with a topic longer than the packet
      Buffer.concat([connect(), packet({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/'.repeat(500), qos: 1 }] })]),
    ];
    for (let round = 0; round < 20; round++) {
      for (const bytes of closesAtOnce) {
        const socket = await rawSocket(svc.mqttPort);
        socket.write(bytes);
        expect(await socketClosed(socket, 5000)).toBe(true);
      }
      for (const bytes of leftHanging) {
        const socket = await rawSocket(svc.mqttPort);
        socket.write(bytes);
        await new Promise((r) => setTimeout(r, round % 2 ? 0 : 20));
        socket.destroy(); // abrupt disconnect mid-packet
      }
    }
    expect(await stillServes()).toBe(true);
  });
});

describe('per-client rate limit', () => {
  it("a flooding device is slowed and then cut off while another device's readings still arrive", async () => {
    const flooder = await connectDevice(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret);
    flooder.on('error', () => {});
    let flooding = true;
    const flood = (async () => {
      for (let i = 0; i < 20_000 && flooding && flooder.connected; i++) {
        flooder.publish(SHED1_ENV.topic, JSON.stringify({ metrics: { nh3: 1 } }), { qos: 0 });
        if (i % 200 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    const other = await connectDevice(svc.mqttPort, SHED2_ENV.id, SHED2_ENV.secret);
    const base = Date.now() - 50_000;
    for (let i = 0; i < 20; i++) await other.publishAsync(SHED2_ENV.topic, JSON.stringify({ ts: base + i, metrics: { nh3: 3 } }), { qos: 1 });
    expect(await svc.store.raw({ device: SHED2_ENV.id, metric: 'nh3', from: base, to: base + 20 })).toHaveLength(20);
    await waitFor(async () => ((await svc.metrics.rateLimited.get()).values[0]?.value ?? 0) >= 1 || undefined, 'the flooder to be cut off', 20_000);
    flooding = false;
    await flood;
    flooder.end(true);
    await endClient(other);
  });
});
