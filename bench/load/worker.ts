import { serveParent, toParent, type Message } from '../ipc.js';
import { ConnectRefused, createRawClient, type RawClient } from './raw-mqtt.js';
import { createRng, readingPayload } from './payload.js';
import type { LoadDeviceSpec, RunSpec } from './protocol.js';

/**
 * One load-generator process: connects its share of the simulated devices (each its own authenticated MQTT
 * connection with a Last Will, announcing `online` like a real device), then publishes telemetry either as
 * fast as the broker takes it ("max") or at a fixed rate ("rate"), and counts what it sent and what was
 * acknowledged. Flow control keeps queues bounded: QoS 1 allows `window` unacknowledged publishes per device;
 * QoS 0 sends a PINGREQ after every `window` publishes and waits while two are unanswered (a broker answers a
 * PINGREQ only after the packets before it, so this bounds what is queued without changing the QoS).
 */
interface Device {
  spec: LoadDeviceSpec;
  client: RawClient;
  lastTs: number;
  sinceLastPing: number;
}

const MAX_CONNECT_ATTEMPTS = 5;
const devices: Device[] = [];
const rng = createRng(Number(process.env.BENCH_SEED ?? 1) + process.pid);
const counters = { sent: 0, acked: 0, errors: 0, disconnects: 0, behind: 0 };
let run: RunSpec | undefined;
let running = false;
let lastError: string | undefined;

function canSend(d: Device, r: RunSpec): boolean {
  if (!d.client.connected()) return false;
  return r.qos === 1 ? d.client.inflight < r.window : d.client.pings < 2;
}

function send(d: Device, r: RunSpec, now: number): void {
  // Strictly increasing per device: the store keys a reading by device + metric + ms, so equal stamps would merge.
  const ts = (d.lastTs = Math.max(now, d.lastTs + 1));
  d.client.publish(d.spec.topic, readingPayload(ts, d.spec.metrics, rng), r.qos);
  counters.sent++;
  if (r.qos === 0 && ++d.sinceLastPing >= r.window) {
    d.sinceLastPing = 0;
    d.client.ping();
  }
}

function pump(d: Device): void {
  if (!running || !run || run.mode !== 'max') return;
  d.client.cork();
  const now = Date.now();
  while (running && canSend(d, run)) send(d, run, now);
}

async function connectAll(msg: Message): Promise<void> {
  const specs = msg.devices as LoadDeviceSpec[];
  const host = msg.host as string;
  const port = msg.port as number;
  const concurrency = (msg.concurrency as number) ?? 100;
  const keepaliveSec = (msg.keepaliveSec as number) ?? 60;
  const started = Date.now();
  let next = 0;
  let failed = 0;
  let retries = 0;
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++];
      const d: Device = { spec, lastTs: 0, sinceLastPing: 0, client: undefined as unknown as RawClient };
      d.client = createRawClient(
        {
          host,
          port,
          clientId: spec.id,
          username: spec.id,
          password: spec.password,
          keepaliveSec,
          will: { topic: spec.statusTopic, payload: 'offline', qos: 1, retain: true },
        },
        {
          onPuback: () => {
            counters.acked++;
            pump(d);
          },
          onPingresp: () => pump(d),
          onClose: () => {
            counters.disconnects++;
            if (running) {
              counters.errors++;
              lastError = `${spec.id}: the broker closed the connection while publishing`;
            }
          },
        },
      );
      // Like a real device (and MQTT.js), retry a dropped or timed-out CONNECT; a refusal (bad credentials) is final.
      for (let attempt = 1; ; attempt++) {
        try {
          await d.client.connect();
          d.client.publish(spec.statusTopic, 'online', 1, true);
          devices.push(d);
          break;
        } catch (err) {
          lastError = (err as Error).message;
          if (err instanceof ConnectRefused || attempt >= MAX_CONNECT_ATTEMPTS) {
            failed++;
            break;
          }
          retries++;
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
    }
  };
  const progress = setInterval(() => toParent({ type: 'connecting', connected: devices.length, failed, retries }), 500);
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  clearInterval(progress);
  // Let the `online` announcements be acknowledged, then start counting from zero.
  const deadline = Date.now() + 10_000;
  while (devices.some((d) => d.client.inflight > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  counters.acked = 0;
  toParent({ type: 'connected', connected: devices.length, failed, retries, ms: Date.now() - started, lastError });
}

async function runLoad(r: RunSpec): Promise<void> {
  run = r;
  Object.assign(counters, { sent: 0, acked: 0, errors: 0, behind: 0 });
  for (const d of devices) d.sinceLastPing = 0;
  running = true;
  const startedAt = Date.now();
  // `waiting`: devices whose window is full right now (waiting for PUBACK / PINGRESP): all of them = the broker is the limit.
  const progress = setInterval(() => toParent({ type: 'progress', ...counters, waiting: devices.filter((d) => !canSend(d, r)).length, at: Date.now() }), 250);
  let pacer: NodeJS.Timeout | undefined;
  if (r.mode === 'max') {
    for (const d of devices) pump(d);
  } else {
    let owed = 0;
    let last = startedAt;
    let cursor = 0;
    pacer = setInterval(() => {
      const now = Date.now();
      owed = Math.min(owed + ((now - last) / 1000) * r.ratePerSec!, r.ratePerSec!);
      last = now;
      let budget = Math.floor(owed);
      for (let tries = 0; budget > 0 && tries < devices.length; tries++) {
        const d = devices[cursor++ % devices.length];
        if (!canSend(d, r)) continue;
        d.client.cork();
        send(d, r, now);
        budget--;
        owed--;
      }
      if (budget > 0) counters.behind += budget;
    }, 5);
  }
  await new Promise<void>((resolve) => {
    const stopAt = setTimeout(resolve, r.durationMs);
    process.once('message', function early(msg: Message) {
      if (msg.type !== 'stop') return;
      clearTimeout(stopAt);
      resolve();
    });
  });
  running = false;
  clearInterval(pacer);
  const endedAt = Date.now();
  // Wait for the last acknowledgements (QoS 1) or answers to the last PINGREQs (QoS 0, all earlier packets handled).
  const deadline = Date.now() + (r.drainMs ?? 30_000);
  const open = () => devices.reduce((n, d) => n + (d.client.connected() ? (r.qos === 1 ? d.client.inflight : d.client.pings) : 0), 0);
  while (open() > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  clearInterval(progress);
  toParent({ type: 'ran', ...counters, unacked: devices.reduce((n, d) => n + d.client.inflight, 0), startedAt, endedAt, lastError });
}

function keepalive(): void {
  // Idle devices (memory scenario) must still ping within their keepalive or the broker drops them.
  const now = Date.now();
  for (const d of devices) if (d.client.connected() && now - d.client.lastWriteAt > 20_000 && d.client.pings === 0) d.client.ping();
}
setInterval(keepalive, 5_000).unref();

serveParent(async (msg) => {
  switch (msg.type) {
    case 'connect':
      return connectAll(msg);
    case 'run':
      // Not awaited: the child keeps answering (e.g. an early `stop`) while it publishes.
      runLoad(msg.run as RunSpec).catch((err: Error) => toParent({ type: 'fatal', message: err.message }));
      return;
    case 'close':
      for (let i = 0; i < devices.length; i += 500) await Promise.all(devices.slice(i, i + 500).map((d) => d.client.end()));
      return;
    default:
      return;
  }
});
toParent({ type: 'ready' });
