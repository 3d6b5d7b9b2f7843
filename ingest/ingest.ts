import type { Logger } from 'pino';
import type { DeviceRef, Reading, TagRead } from '../core/domain.js';
import type { FarmBus, RejectReason, RejectRecord } from '../core/events.js';
import { REJECT_REASONS } from '../core/events.js';
import type { FarmIndex } from '../core/farm-index.js';
import type { FarmMetrics } from '../core/observability.js';
import { parseDeviceTopic, PUBLISH_CHANNELS } from '../core/topics.js';
import type { Store } from '../store/store.js';
import { createBatcher } from './batcher.js';
import type { DevicePresence, IngestHandle, IngestStats } from './handle.js';
import { createLateReadings } from './late.js';
import { createStoreLedger, type Admitted, type ReadingLedger } from './ledger.js';
import { validateState, validateTelemetry } from './validate.js';
import { validateTagReads } from './validate-tags.js';
import { createRecentReads, readKey } from './recent-reads.js';

/**
 * The ingest pipeline: a message from a device topic is validated, its readings are written to the store in
 * batches, and typed events go out on the bus. `handleMessage` resolves once the readings are durable, so the
 * broker can hold a QoS 1 PUBACK until then. A QoS 0 message promises no acknowledgement, so its readings are
 * taken once queued for the store, as long as fewer than UNSETTLED_BATCHES batches are waiting or being written;
 * beyond that it, too, waits for the store (the device is held back, not dropped).
 */
export interface IngestDeps {
  farm: () => FarmIndex;
  store: Store;
  bus: FarmBus;
  logger: Logger;
  metrics: FarmMetrics;
  clock?: { now(): number };
  /** Which values were already accepted; by default one backed by `store` (ledger.ts). */
  ledger?: ReadingLedger;
}

export interface IngestOptions {
  topicRoot: string;
  maxPayloadBytes: number;
  maxFutureMs: number;
  maxPastMs: number;
  batchSize: number;
  batchIntervalMs: number;
  rejectsKept: number;
}

/** How the message came: at QoS 0 nothing waits for the store's acknowledgement (see above). Default QoS 1. */
export interface Delivery {
  qos: 0 | 1 | 2;
}

/** QoS 0 readings wait for the store only while this many full batches (BATCH_SIZE) are not yet durable. */
export const UNSETTLED_BATCHES = 4;

export interface Ingest extends IngestHandle {
  /**
   * Takes a message from a device topic. `sender` is the authenticated device id when known (embedded broker); a
   * mismatch with the topic is refused. Returns what the caller must wait for before it acknowledges the message
   * or reads the device's next one (QoS 1: until durable), or undefined when it may go on at once: no promise is
   * made per message where none is needed (issue 18).
   */
  accept(topic: string, payload: Buffer, sender?: string, delivery?: Delivery): Promise<void> | undefined;
  /** accept() as a promise that always settles when the caller may go on. */
  handleMessage(topic: string, payload: Buffer, sender?: string, delivery?: Delivery): Promise<void>;
  deviceDisconnected(deviceId: string): void;
  /** Counts a refusal decided elsewhere (the broker's access control). */
  recordReject(reason: RejectReason, detail: string, topic: string, device?: string, payload?: Buffer): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createIngest(deps: IngestDeps, options: IngestOptions): Ingest {
  const { store, bus, logger, metrics } = deps;
  const now = () => deps.clock?.now() ?? Date.now();
  const counts = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  const stats = { accepted: 0, duplicates: 0, messages: 0, batches: 0, tagReads: 0, tagDuplicates: 0 };
  const recentReads = createRecentReads();
  const ledger = deps.ledger ?? createStoreLedger(store);
  /** Once, before the first reading: what the store held at start, so a batch replayed after a restart is known. */
  let seeding: Promise<void> | undefined;
  const late = createLateReadings();
  let seeded = false;
  const seedLedger = () => {
    // What waits in the outbox first, then what the store shows: a reading delivered between the two reads is then
    // in the second (read after the delivery); reading the store first could miss it in both.
    rememberWaiting();
    return store.latest().then(
      (values) => (ledger.seed(values), late.seed(values)),
      (err: Error) =>
        logger.warn(
          { err: err.message },
          'cannot read the newest stored readings: values from before this start sent again are recognised only while they are held in memory (or still wait in the outbox)',
        ),
    );
  };
  /** Readings acknowledged before this start and still on their way to the store are known as accepted. */
  function rememberWaiting(): void {
    if (!store.waitingReadingKeys) return;
    try {
      const taken = ledger.remember(store.waitingReadingKeys());
      if (taken > 0)
        logger.info({ readings: taken }, 'readings from before this start still wait in the outbox: a device sending them again is told they are stored');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'cannot read the readings waiting in the outbox: a device sending them again may have them evaluated twice');
    }
  }
  /** Per device, the write of its newest accepted values: a duplicate is acknowledged only once its original is durable. */
  const lastWrite = new Map<string, Promise<void>>();
  const rejects: RejectRecord[] = [];
  const presence = new Map<string, DevicePresence>();

  // A batch holds exactly the new readings of the messages it carries, so what was done per message (counting,
  // latency, forgetting what failed, the duplicates' wait) is done here once per batch.
  const batcher = createBatcher<Reading>(
    async (readings, batch) => {
      const end = metrics.writeSeconds.startTimer();
      try {
        await store.writeReadings(readings);
        metrics.batches.inc({ outcome: 'ok' });
        metrics.batchSize.observe(readings.length);
        stats.batches++;
        stats.accepted += readings.length;
        metrics.accepted.inc(readings.length);
        const at = performance.now();
        for (const added of batch.addedAt) metrics.ingestLatency.observe((at - added) / 1000);
      } catch (err) {
        metrics.batches.inc({ outcome: 'error' });
        // Not durable, so not accepted: a resend of these values must be taken again.
        ledger.forget(readings);
        logger.error({ err, readings: readings.length }, 'store write failed; the devices will resend unacknowledged QoS 1 readings');
        throw err;
      } finally {
        end();
        for (const r of readings) if (lastWrite.get(r.device) === batch.settled) lastWrite.delete(r.device);
      }
    },
    { maxSize: options.batchSize, maxDelayMs: options.batchIntervalMs },
  );

  // Tag reads have their own batcher (their own store call); the same group commit, so a burst of hundreds of
  // reads a second is a few transactions, each acknowledged (PUBACK) once durable.
  const tagBatcher = createBatcher<TagRead>(
    async (reads) => {
      try {
        await store.writeTagReads(reads);
        metrics.batches.inc({ outcome: 'ok' });
      } catch (err) {
        metrics.batches.inc({ outcome: 'error' });
        // The reader resends what was not acknowledged: those reads must then count as new, not as duplicates.
        recentReads.forget(reads.map((r) => readKey(r.device, r.tag, r.ts)));
        logger.error({ err, reads: reads.length }, 'store write of tag reads failed; the readers will resend unacknowledged QoS 1 reads');
        throw err;
      }
    },
    { maxSize: options.batchSize, maxDelayMs: options.batchIntervalMs },
  );

  function recordReject(reason: RejectReason, detail: string, topic: string, device?: string, payload?: Buffer) {
    counts[reason]++;
    metrics.rejected.inc({ reason });
    const record: RejectRecord = { reason, detail, topic: topic.slice(0, 256), device, ts: now(), sample: payload?.subarray(0, 200).toString('utf8') };
    rejects.unshift(record);
    if (rejects.length > options.rejectsKept) rejects.length = options.rejectsKept;
    bus.emit('reject', record);
  }

  /** The per-channel child of the messages counter, looked up once (prom-client hashes the labels on every inc). */
  const messageCounters = new Map<string, { inc(): void }>();
  const messageCounter = (channel: string) => {
    let c = messageCounters.get(channel);
    if (!c) messageCounters.set(channel, (c = metrics.messages.labels({ channel })));
    return c;
  };

  function seen(ref: DeviceRef): DevicePresence {
    let p = presence.get(ref.device);
    if (!p) presence.set(ref.device, (p = { ...ref, status: 'unknown' }));
    return p;
  }

  function accept(topic: string, payload: Buffer, sender?: string, delivery?: Delivery): Promise<void> | undefined {
    const parsed = parseDeviceTopic(options.topicRoot, topic);
    if (!parsed) return void recordReject('unauthorised_topic', 'not a device topic', topic, sender, payload);
    const device = deps.farm().device(parsed.device);
    if (!device) return void recordReject('unknown_device', `device ${parsed.device} is not in the farm config: provision it first`, topic, sender, payload);
    if (
      (sender && sender !== device.device) ||
      device.site !== parsed.site ||
      device.zone !== parsed.zone ||
      !PUBLISH_CHANNELS[device.role].includes(parsed.channel)
    )
      return void recordReject('unauthorised_topic', `${sender ?? 'sender'} may not publish on ${topic}`, topic, sender, payload);
    const ref: DeviceRef = { site: device.site, zone: device.zone, kind: device.kind, device: device.device };
    messageCounter(parsed.channel).inc();

    if (parsed.channel === 'status') {
      const text = payload.toString('utf8');
      if (text !== 'online' && text !== 'offline') return void recordReject('schema', 'status must be "online" or "offline"', topic, device.device, payload);
      const p = seen(ref);
      p.status = text;
      p.statusTs = now();
      bus.emit('status', { ...ref, status: text, ts: p.statusTs });
      return;
    }
    if (parsed.channel === 'state') {
      const result = validateState(payload, { now: now(), maxBytes: options.maxPayloadBytes, maxFutureMs: options.maxFutureMs, maxPastMs: options.maxPastMs });
      if (!result.ok) return void recordReject(result.reason, result.detail, topic, device.device, payload);
      bus.emit('actuatorState', { ...ref, ...result.state });
      return;
    }

    if (parsed.channel === 'tags') return handleTags(ref, device.at ?? 'gate', topic, payload);

    stats.messages++;
    const result = validateTelemetry(payload, {
      kind: device.kind,
      now: now(),
      maxBytes: options.maxPayloadBytes,
      maxFutureMs: options.maxFutureMs,
      maxPastMs: options.maxPastMs,
      metrics: device.config.metrics,
    });
    for (const r of result.rejects) recordReject(r.reason, r.detail, topic, device.device, payload);
    if (result.readings.length === 0) return;
    const readings: Reading[] = [];
    const p = seen(ref);
    let newest = -Infinity;
    for (const r of result.readings) {
      readings.push({ site: ref.site, zone: ref.zone, kind: ref.kind, device: ref.device, ts: r.ts, metrics: r.metrics });
      if (r.ts > newest) newest = r.ts;
    }
    if (newest > (p.lastSeen ?? 0)) p.lastSeen = newest;
    const atMostOnce = delivery?.qos === 0;
    if (!seeded) {
      seeding ??= seedLedger().then(() => void (seeded = true));
      return seeding.then(() => admit(ref, readings, newest, atMostOnce));
    }
    return admit(ref, readings, newest, atMostOnce);
  }

  /** Values sent again (QoS 1 redelivery, a batch resent after a lost PUBACK) are acknowledged but go no further. */
  function admit(ref: DeviceRef, readings: Reading[], newest: number, atMostOnce: boolean): Promise<void> | undefined {
    // After seeding: the store's newest stamps at start count as the device's newest.
    const behind = late.check(ref.device, newest, now());
    if (behind) {
      metrics.lateReadings.inc(behind.count);
      logger.warn({ device: ref.device, newest: behind.newest, behindMs: behind.behindMs, lateMessages: behind.count }, behind.message);
    }
    const admitted = ledger.admit(readings);
    if ('then' in admitted) return admitted.then((a) => queue(ref, a, atMostOnce));
    return queue(ref, admitted, atMostOnce);
  }

  function queue(ref: DeviceRef, { fresh, duplicates }: Admitted, atMostOnce: boolean): Promise<void> | undefined {
    if (duplicates > 0) {
      stats.duplicates += duplicates;
      metrics.duplicates.inc(duplicates);
    }
    // Rules and the dashboard see a reading as soon as it is valid; the PUBACK waits for the store.
    for (const reading of fresh) bus.emit('reading', reading);
    // A duplicate is acknowledged only once its original is durable.
    const original = duplicates > 0 && !atMostOnce ? lastWrite.get(ref.device) : undefined;
    let write: Promise<void> | undefined;
    if (fresh.length > 0) {
      write = batcher.add(fresh);
      lastWrite.set(ref.device, write);
      if (atMostOnce && batcher.unsettled() <= UNSETTLED_BATCHES * options.batchSize) write = undefined;
    }
    if (original && write && original !== write) return Promise.all([original, write]).then(() => undefined);
    return write ?? original;
  }

  async function handleTags(ref: DeviceRef, at: 'gate' | 'pen' | 'feeder', topic: string, payload: Buffer): Promise<void> {
    stats.messages++;
    const result = validateTagReads(payload, {
      at,
      now: now(),
      maxBytes: options.maxPayloadBytes,
      maxFutureMs: options.maxFutureMs,
      maxPastMs: options.maxPastMs,
    });
    for (const r of result.rejects) recordReject(r.reason, r.detail, topic, ref.device, payload);
    if (!result.reads) return;
    const { ts, direction, tags } = result.reads;
    const reads: TagRead[] = tags.map((tag) => (direction ? { ...ref, ts, tag, direction } : { ...ref, ts, tag }));
    const fresh = reads.filter((r) => !recentReads.seen(readKey(r.device, r.tag, r.ts)));
    const duplicates = reads.length - fresh.length;
    if (duplicates > 0) {
      stats.tagDuplicates += duplicates;
      metrics.tagReads.inc({ outcome: 'duplicate' }, duplicates);
    }
    const p = seen(ref);
    p.lastSeen = Math.max(p.lastSeen ?? 0, ts);
    // The herd and the dashboard see new reads at once; a duplicate is written again (the store keeps one) so
    // that its PUBACK, too, waits for durability, but it is neither emitted nor counted as a read.
    if (fresh.length > 0) bus.emit('tagReads', fresh);
    await tagBatcher.add(reads);
    stats.tagReads += fresh.length;
    metrics.tagReads.inc({ outcome: 'accepted' }, fresh.length);
  }

  return {
    accept,
    handleMessage: async (topic, payload, sender, delivery) => accept(topic, payload, sender, delivery),
    recordReject,
    deviceDisconnected(deviceId) {
      const device = deps.farm().device(deviceId);
      if (!device) return;
      const p = seen({ site: device.site, zone: device.zone, kind: device.kind, device: device.device });
      if (p.status === 'offline') return;
      p.status = 'offline';
      p.statusTs = now();
      bus.emit('status', { site: p.site, zone: p.zone, kind: p.kind, device: p.device, status: 'offline', ts: p.statusTs });
    },
    stats: (): IngestStats => ({ ...stats, rejected: { ...counts } }),
    rejects: () => rejects.slice(),
    presence: () =>
      deps
        .farm()
        .devices()
        .map((d) => ({ ...(presence.get(d.device) ?? { site: d.site, zone: d.zone, kind: d.kind, device: d.device, status: 'unknown' as const }) })),
    flush: async () => {
      await Promise.all([batcher.flush(), tagBatcher.flush()]);
    },
    stop: async () => {
      await Promise.all([batcher.flush(), tagBatcher.flush()]);
    },
  };
}
