import { serveParent, toParent, type Message } from '../ipc.js';
import { publishSize, writePublish } from './encode.js';
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
  /** Pipelined mode: readings still to send, the topic as bytes, and whether it waits for the socket to drain. */
  left: number;
  topicBytes?: Buffer;
  draining: boolean;
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
  if (r.mode === 'pipelined') return !d.draining && (r.qos === 0 || d.client.inflight < r.window);
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
  if (!running || !run) return;
  if (run.mode === 'pipelined') return pipe(d, run);
  if (run.mode !== 'max') return;
  d.client.cork();
  const now = Date.now();
  while (running && canSend(d, run)) send(d, run, now);
}

/** Pipelined: PUBLISH packets encoded straight into chunks of about this size, one socket write each. */
const CHUNK_BYTES = 64 * 1024;
/** Chunks one device writes before letting the event loop run (PUBACKs, progress, other devices). */
const CHUNKS_PER_TURN = 8;
let pipelinedDone: (() => void) | undefined;

/**
 * Open loop: writes the device's readings as fast as its connection takes them. Waits only when the socket's
 * buffer is full (the broker reads no faster: TCP flow control) or, at QoS 1, when `window` are unacknowledged.
 */
function pipe(d: Device, r: RunSpec): void {
  if (d.draining) return;
  const qos = r.qos;
  const topic = (d.topicBytes ??= Buffer.from(d.spec.topic));
  for (let turn = 0; turn < CHUNKS_PER_TURN; turn++) {
    if (!running || d.left === 0 || !d.client.connected()) return checkPipelinedDone();
    // QoS 1: top the window up only once half of it is free, so chunks stay large.
    const room = qos === 1 ? r.window - d.client.inflight : Infinity;
    if (room <= 0 || (qos === 1 && room < r.window / 2 && d.client.inflight > 0)) return;
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let offset = 0;
    let n = 0;
    const now = Date.now();
    while (n < room && d.left > 0) {
      const ts = (d.lastTs = Math.max(now - d.left, d.lastTs + 1));
      const payload = readingPayload(ts, d.spec.metrics, rng);
      if (offset + publishSize(topic, payload.length, qos) > CHUNK_BYTES) break;
      offset = writePublish(chunk, offset, topic, payload, qos, qos === 1 ? d.client.nextMessageId() : 0);
      n++;
      d.left--;
    }
    counters.sent += n;
    if (!d.client.writeEncoded(chunk.subarray(0, offset), qos === 1 ? n : 0)) {
      d.draining = true;
      return;
    }
  }
  setImmediate(() => pump(d));
}

function checkPipelinedDone(): void {
  if (pipelinedDone && devices.every((d) => d.left === 0 || !d.client.connected())) pipelinedDone();
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
      const d: Device = { spec, lastTs: 0, sinceLastPing: 0, left: 0, draining: false, client: undefined as unknown as RawClient };
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
          onDrain: () => {
            d.draining = false;
            pump(d);
          },
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
  const finished = new Promise<void>((resolve) => (pipelinedDone = r.mode === 'pipelined' ? resolve : undefined));
  if (r.mode === 'pipelined') {
    // Stamps strictly increasing per device and all in the past: a device sends far more than one reading a ms.
    for (const d of devices) d.left = r.perDevice ?? 0;
    for (const d of devices) pump(d);
  } else if (r.mode === 'max') {
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
    const early = (msg: Message) => msg.type === 'stop' && done();
    function done() {
      clearTimeout(stopAt);
      process.off('message', early);
      resolve();
    }
    process.on('message', early);
    void finished.then(done);
  });
  running = false;
  pipelinedDone = undefined;
  clearInterval(pacer);
  const endedAt = Date.now();
  // QoS 0, pipelined: a PINGREQ behind the last readings; its answer says the broker has handled them all.
  if (r.mode === 'pipelined' && r.qos === 0) for (const d of devices) if (d.client.connected()) d.client.ping();
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
