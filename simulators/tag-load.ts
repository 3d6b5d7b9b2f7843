import type { FarmConfigT } from '../core/config/schema.js';
import { deviceTopic } from '../core/topics.js';
import { createDeviceClient, type DeviceClient } from './device-client.js';

/**
 * Tag load mode (`npm run simulate -- --tag-load`): the park at full scale. Every gate reader of the farm file
 * sends its shed's whole flock through the gate, out and then back in, all sheds at once, as fast as
 * `ratePerSec` reads a second over the park (hundreds a second: 150 sheds emptying at a few sheep a second each).
 * Each reader reports once per `everyMs` with the tags read meanwhile (QoS 1 by default, a few messages in
 * flight per reader, like a reader's queue). Bounded: it ends after the passes (or `maxPasses`).
 */
export interface TagLoadReader {
  device: string;
  site: string;
  zone: string;
  password: string;
  tags: string[];
}

export interface TagLoadOptions {
  brokerUrl: string;
  readers: TagLoadReader[];
  /** Tag reads per second over all readers. */
  ratePerSec: number;
  /** The passes to play, in order (default out then in). */
  passes?: ('in' | 'out')[];
  qos?: 0 | 1;
  topicRoot?: string;
  /** How often a reader reports the tags read since its last report (default 1 s). */
  everyMs?: number;
  /** Messages one reader may have unacknowledged (default 4). */
  inFlightPerReader?: number;
  /** Timestamps: first pass at this epoch ms, then each read stamped from it (default now). */
  startTs?: number;
  onProgress?: (stats: TagLoadStats) => void;
  progressEveryMs?: number;
}

export interface TagLoadStats {
  readers: number;
  connected: number;
  animals: number;
  /** Tag reads sent / acknowledged (PUBACK: durable in the service). */
  sentReads: number;
  ackedReads: number;
  messages: number;
  errors: number;
  /** Acknowledged reads per second over the passes. */
  ratePerSec: number;
  passMs: number[];
  finished: boolean;
  lastError?: string;
}

export interface TagLoadRunner {
  start(): Promise<void>;
  stop(): Promise<TagLoadStats>;
  stats(): TagLoadStats;
  readonly done: Promise<TagLoadStats>;
}

/** The gate readers of a farm file with the animals of their shed (from the register), for tag load mode. */
export function gateReadersOf(farm: FarmConfigT, secrets: (id: string) => string | undefined): TagLoadReader[] {
  const out: TagLoadReader[] = [];
  for (const site of farm.sites)
    for (const z of site.zones) {
      const gate = z.devices.find((d) => d.role === 'reader' && (d.at ?? 'gate') === 'gate');
      const password = gate && secrets(gate.id);
      if (!gate || !password) continue;
      const tags = farm.animals.register.filter((a) => a.zone === z.id && (!a.site || a.site === site.id)).map((a) => a.tag);
      if (tags.length > 0) out.push({ device: gate.id, site: site.id, zone: z.id, password, tags });
    }
  return out;
}

export function createTagLoadRunner(o: TagLoadOptions): TagLoadRunner {
  if (!(o.ratePerSec > 0)) throw new RangeError(`tag load rate must be a positive number of reads per second, got ${o.ratePerSec}`);
  if (o.readers.length === 0)
    throw new RangeError(
      'tag load mode needs gate readers with animals: the farm file has no reader (role: reader, at: gate) in a zone whose animals are in animals.register',
    );
  const root = o.topicRoot ?? 'farm';
  const everyMs = o.everyMs ?? 1000;
  const inFlightMax = o.inFlightPerReader ?? 4;
  const passes = o.passes ?? ['out', 'in'];
  const s: TagLoadStats = {
    readers: o.readers.length,
    connected: 0,
    animals: o.readers.reduce((n, r) => n + r.tags.length, 0),
    sentReads: 0,
    ackedReads: 0,
    messages: 0,
    errors: 0,
    ratePerSec: 0,
    passMs: [],
    finished: false,
  };
  const clients: DeviceClient[] = [];
  let stopping: Promise<TagLoadStats> | undefined;
  let progress: NodeJS.Timeout | undefined;
  let firstPassAt = 0;
  let resolveDone!: (st: TagLoadStats) => void;
  const done = new Promise<TagLoadStats>((r) => (resolveDone = r));
  const snapshot = (): TagLoadStats => ({ ...s, connected: clients.filter((c) => c.connected()).length, passMs: [...s.passMs] });
  /** Acknowledged reads per second since the first pass began. */
  const live = (): TagLoadStats => ({ ...snapshot(), ratePerSec: firstPassAt ? s.ackedReads / Math.max(0.001, (Date.now() - firstPassAt) / 1000) : 0 });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function connectAll(): Promise<void> {
    await Promise.all(
      o.readers.map(
        (r) =>
          new Promise<void>((resolve) => {
            const client = createDeviceClient({
              brokerUrl: o.brokerUrl,
              device: r.device,
              password: r.password,
              statusTopic: deviceTopic(root, r, 'status'),
              onConnect: () => resolve(),
              onError: (err, fatal) => {
                s.errors++;
                s.lastError = `${r.device}: ${err.message}`;
                if (fatal) resolve();
              },
            });
            clients.push(client);
          }),
      ),
    );
  }

  /** One pass: every reader sends its flock in order, the park together at ratePerSec. */
  async function playPass(direction: 'in' | 'out', ts0: number): Promise<void> {
    const perReaderPerTick = (o.ratePerSec / o.readers.length) * (everyMs / 1000);
    const cursor = o.readers.map(() => 0);
    const owed = o.readers.map(() => 0);
    const inFlight = o.readers.map(() => 0);
    const pending = new Set<Promise<void>>();
    let tick = 0;
    while (!stopping && cursor.some((c, i) => c < o.readers[i].tags.length)) {
      const tickStart = Date.now();
      o.readers.forEach((r, i) => {
        owed[i] += perReaderPerTick;
        const n = Math.min(Math.floor(owed[i]), r.tags.length - cursor[i]);
        if (n <= 0 || inFlight[i] >= inFlightMax || !clients[i].connected()) return;
        owed[i] -= n;
        const tags = r.tags.slice(cursor[i], cursor[i] + n);
        cursor[i] += n;
        const payload = JSON.stringify({ ts: ts0 + tick * everyMs, tags, direction });
        s.sentReads += n;
        s.messages++;
        inFlight[i]++;
        const p = clients[i]
          .publish(deviceTopic(root, r, 'tags'), payload, { qos: o.qos ?? 1 })
          .then(
            () => void (s.ackedReads += n),
            (err: Error) => {
              s.errors++;
              s.lastError = `${r.device}: ${err.message}`;
            },
          )
          .finally(() => {
            inFlight[i]--;
            pending.delete(p);
          });
        pending.add(p);
      });
      tick++;
      await sleep(Math.max(0, everyMs - (Date.now() - tickStart)));
    }
    await Promise.all([...pending]);
  }

  async function run(): Promise<void> {
    const ts0 = o.startTs ?? Date.now();
    firstPassAt = Date.now();
    let offsetMs = 0;
    for (const direction of passes) {
      if (stopping) break;
      const started = Date.now();
      await playPass(direction, ts0 + offsetMs);
      s.passMs.push(Date.now() - started);
      // The next pass is stamped after this one, so no read of the second pass is older than the first's.
      offsetMs += Date.now() - started + everyMs;
    }
    s.finished = true;
  }

  function stop(): Promise<TagLoadStats> {
    stopping ??= (async () => {
      clearInterval(progress);
      for (let i = 0; i < clients.length; i += 200) await Promise.all(clients.slice(i, i + 200).map((c) => c.close(2000)));
      const final = snapshot();
      final.connected = 0;
      const ms = s.passMs.reduce((a, b) => a + b, 0);
      final.ratePerSec = ms > 0 ? s.ackedReads / (ms / 1000) : 0;
      resolveDone(final);
      return final;
    })();
    return stopping;
  }

  return {
    async start() {
      progress = setInterval(() => o.onProgress?.(live()), o.progressEveryMs ?? 1000);
      await connectAll();
      void run().then(
        () => stop(),
        (err: Error) => {
          s.errors++;
          s.lastError = err.message;
          void stop();
        },
      );
    },
    stop,
    stats: live,
    done,
  };
}
