import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { SHED1_ENV, SHED2_ENV } from '../helpers/service.js';
import { waitFor } from '../helpers/ports.js';
import { connackCode, connectPacket, fixedHeader, rawSocket, socketClosed, streamZeros } from '../helpers/raw-mqtt.js';
import { startFlow, type Flow } from './flow.js';
import { report } from './report.js';

/**
 * Clients announcing huge MQTT packets (the remaining length in the fixed header, MQTT 3.1.1 §2.2.3), against the
 * real service as its own process so that its resident memory is its own: before login (a CONNECT announcing
 * 200 MB) and after (a device's PUBLISH announcing 100 MB). The broker must refuse each at its header instead of
 * buffering what follows, count it, and keep acknowledging another device's readings throughout.
 */
const MB = 1024 * 1024;
/** What each attacking socket sends at most after its header: enough that buffering it shows as hundreds of MB. */
const SEND_AT_MOST = 48 * MB;
/** Growth of the service's resident memory that the attacks may cause: noise of a busy process, not their bytes. */
const RSS_GROWTH_BOUND = 96 * MB;

let dataDir: string;
let proc: ServiceProcess | undefined;
let ports: { MQTT_PORT: string; HTTP_PORT: string };
let flow: Flow;

// A fresh process for each attack: memory freed after one would otherwise be reused by the next and hide it.
beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'farm-packet-size-'));
  ports = await servicePorts();
  proc = spawnService({ ...ports, DATA_DIR: dataDir, MQTT_MAX_CONNECTS_PER_MINUTE: '100000' });
  await waitHealthy(Number(ports.HTTP_PORT), proc);
  flow = await startFlow(Number(ports.MQTT_PORT), [SHED2_ENV], { intervalMs: 20, base: Date.now() - 3_600_000 });
}, 90_000);

afterEach(async () => {
  await flow?.stop(5000);
  await flow?.close();
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** The service process's resident set and its peak so far, from /proc (bytes). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ports.HTTP_PORT}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** Runs `attack` while sampling the service's memory every 50 ms; the device flow must keep being acknowledged. */
async function underAttack<T>(attack: () => Promise<T>): Promise<{ result: T; rssBefore: number; rssMax: number; rssAfter: number; ackedDuring: number }> {
  const pid = proc!.pid;
  const rssBefore = memoryOf(pid).rss;
  let rssMax = rssBefore;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, memoryOf(pid).rss)), 50);
  const ackedAtStart = flow.ackedTotal();
  try {
    const result = await attack();
    // The other device is served throughout: more of its readings acknowledged since the attack began, and after.
    const ackedDuring = flow.ackedTotal() - ackedAtStart;
    const target = flow.ackedTotal() + 5;
    await waitFor(() => flow.ackedTotal() >= target || undefined, 'the other device to keep being acknowledged');
    return { result, rssBefore, rssMax: Math.max(rssMax, memoryOf(pid).rss), rssAfter: memoryOf(pid).rss, ackedDuring };
  } finally {
    clearInterval(sampler);
  }
}

describe('announced packet lengths', () => {
  it('closes eight sockets that each announce a 200 MB CONNECT at their header, without the memory growing', async () => {
    const { result, rssBefore, rssMax, rssAfter, ackedDuring } = await underAttack(() =>
      Promise.all(
        Array.from({ length: 8 }, async () => {
          const socket = await rawSocket(Number(ports.MQTT_PORT));
          socket.write(Buffer.concat([fixedHeader(0x10, 200_000_000), connectPacket(SHED1_ENV.id, SHED1_ENV.id, SHED1_ENV.secret).subarray(2)]));
          const sent = await streamZeros(socket, SEND_AT_MOST);
          const closed = await socketClosed(socket, 15_000);
          socket.destroy();
          return { ...sent, closed };
        }),
      ),
    );
    report('announced-connect-200mb', {
      sockets: 8,
      sentBytesPerSocket: result.map((r) => r.sentBytes),
      rssBeforeMb: rssBefore / MB,
      rssMaxMb: rssMax / MB,
      rssAfterMb: rssAfter / MB,
      otherDeviceAckedDuring: ackedDuring,
    });
    expect(result.every((r) => r.closed && r.closedEarly)).toBe(true);
    expect(rssMax - rssBefore).toBeLessThan(RSS_GROWTH_BOUND);
    expect(await metric('farm_mqtt_oversize_packets_total', 'stage="before_connect"')).toBe(8);
  }, 120_000);

  it("closes a logged-in device's connection at the header of a PUBLISH announcing 100 MB, counts it as oversize, and lets the device back in", async () => {
    const { result, rssBefore, rssMax, rssAfter, ackedDuring } = await underAttack(async () => {
      const socket = await rawSocket(Number(ports.MQTT_PORT));
      const connack = connackCode(socket);
      socket.write(connectPacket(SHED1_ENV.id, SHED1_ENV.id, SHED1_ENV.secret));
      expect(await connack).toBe(0);
      const topic = Buffer.from(SHED1_ENV.topic);
      socket.write(Buffer.concat([fixedHeader(0x32, 100_000_000), Buffer.from([0, topic.length]), topic, Buffer.from([0, 1])]));
      const sent = await streamZeros(socket, SEND_AT_MOST);
      const closed = await socketClosed(socket, 15_000);
      socket.destroy();
      return { ...sent, closed };
    });
    report('announced-publish-100mb', {
      sentBytes: result.sentBytes,
      rssBeforeMb: rssBefore / MB,
      rssMaxMb: rssMax / MB,
      rssAfterMb: rssAfter / MB,
      otherDeviceAckedDuring: ackedDuring,
    });
    expect(result.closed && result.closedEarly).toBe(true);
    expect(rssMax - rssBefore).toBeLessThan(RSS_GROWTH_BOUND);
    expect(await metric('farm_mqtt_oversize_packets_total', 'stage="device"')).toBe(1);
    expect(await metric('farm_readings_rejected_total', 'reason="oversize"')).toBe(1);

    // The device is not banned for it: its next, well-formed connection publishes as usual.
    const socket = await rawSocket(Number(ports.MQTT_PORT));
    const connack = connackCode(socket);
    socket.write(connectPacket(SHED1_ENV.id, SHED1_ENV.id, SHED1_ENV.secret));
    expect(await connack).toBe(0);
    socket.destroy();
  }, 120_000);
});
