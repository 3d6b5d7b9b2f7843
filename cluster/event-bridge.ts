import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Reading } from '../core/domain.js';
import type { FarmBus, FarmEvents } from '../core/events.js';
import type { ReadingLedger } from '../ingest/ledger.js';
import type { FarmMetrics } from '../core/observability.js';
import { parseBridgedEvent } from './event-schemas.js';
import { eventFilters, eventTopic, parseEventTopic, type BridgedEvent } from './service-topics.js';

/**
 * Carries FarmBus events between processes: the producing process publishes each event on its service topic,
 * the consuming processes subscribe and emit it on their own FarmBus, so the components themselves do not change
 * (the rules engine and the dashboard listen to a FarmBus as in one process).
 *
 * Latest actuator state and device status are retained: a rules or dashboard process that starts later gets
 * the current picture from the broker at once (MQTT does not give retained messages to shared subscriptions,
 * so ingest could not pass on the devices' own retained messages).
 */
const RETAINED: ReadonlySet<BridgedEvent> = new Set(['status', 'actuatorState']);

export interface BridgeDeps {
  bus: FarmBus;
  client: MqttClient;
  topicRoot: string;
  metrics: FarmMetrics;
  logger: Logger;
}

/**
 * Readings imported from several ingest processes: behind a shared subscription two copies of one value (a device
 * resending) can land on two ingest processes, each of which takes its copy. The consumer passes them through a
 * ledger of its own, so its components see each value once; `duplicate` says how many values it stopped.
 */
export interface ImportedReadings {
  ledger: Pick<ReadingLedger, 'admit'>;
  duplicate(values: number): void;
}

function whereOf(event: BridgedEvent, payload: unknown): { site?: string; zone?: string; device?: string } {
  if (event === 'reject') return {};
  // A batch of tag reads comes from one reader: its first read says where.
  const p = (Array.isArray(payload) ? payload[0] : payload) as { site?: string; zone?: string; device?: string };
  return { site: p.site, zone: p.zone, device: p.device };
}

/** Publishes the given events of the local bus. Returns a function that stops it. */
export function exportEvents(deps: BridgeDeps, events: readonly BridgedEvent[]): () => void {
  const listeners = events.map((event) => {
    const listener = (payload: FarmEvents[typeof event][0]) => {
      deps.metrics.serviceEvents.inc({ direction: 'out', event });
      deps.client.publish(
        eventTopic(deps.topicRoot, event, whereOf(event, payload)),
        JSON.stringify(payload),
        { qos: 1, retain: RETAINED.has(event) },
        (err) => {
          if (err) deps.logger.warn({ err: err.message, event }, 'could not pass an event to the other processes');
        },
      );
    };
    deps.bus.on(event, listener);
    return () => deps.bus.off(event, listener);
  });
  return () => listeners.forEach((off) => off());
}

/**
 * Subscribes to the given events (limited to `sites` when given) and emits them on the local bus.
 * Resolves once the broker has granted the subscriptions. Each payload is checked against its event's schema
 * (cluster/event-schemas.ts); one that is not JSON or not in its event's shape is logged, counted
 * (farm_cluster_events_dropped_total) and dropped, and the components never see it.
 */
export async function importEvents(
  deps: BridgeDeps,
  events: readonly BridgedEvent[],
  sites?: readonly string[],
  readings?: ImportedReadings,
): Promise<() => void> {
  const wanted = new Set(events);
  const emitReading = (reading: Reading) => {
    if (!readings) return void deps.bus.emit('reading', reading);
    const pass = (admitted: { fresh: Reading[]; duplicates: number }) => {
      if (admitted.duplicates > 0) readings.duplicate(admitted.duplicates);
      for (const r of admitted.fresh) deps.bus.emit('reading', r);
    };
    const admitted = readings.ledger.admit([reading]);
    if (admitted instanceof Promise)
      void admitted.then(pass, (err: Error) => deps.logger.error({ err: err.message }, 'could not check an imported reading for duplicates'));
    else pass(admitted);
  };
  const onMessage = (topic: string, payload: Buffer) => {
    const event = parseEventTopic(deps.topicRoot, topic);
    if (!event || !wanted.has(event) || payload.length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      deps.metrics.serviceEventsDropped.inc({ event });
      deps.logger.warn({ topic, err: (err as Error).message }, 'dropped an unreadable service event (only service processes may publish there)');
      return;
    }
    const parsed = parseBridgedEvent(event, value);
    if (!parsed.ok) {
      deps.metrics.serviceEventsDropped.inc({ event });
      deps.logger.warn({ topic, problem: parsed.problem }, `dropped a "${event}" service event not in its shape: is every process the same version?`);
      return;
    }
    deps.metrics.serviceEvents.inc({ direction: 'in', event });
    emitTyped(event, parsed.payload);
  };
  /**
   * Emits a checked payload under its own event name. (TypeScript cannot follow that the payload's type goes with
   * the name through a generic: the two casts only restate what parseBridgedEvent established.)
   */
  function emitTyped<E extends BridgedEvent>(event: E, payload: FarmEvents[E][0]): void {
    if (event === 'reading') return emitReading(payload as Reading);
    deps.bus.emit<BridgedEvent>(event, ...([payload] as FarmEvents[E]));
  }
  deps.client.on('message', onMessage);
  const filters = events.flatMap((event) => eventFilters(deps.topicRoot, event, event === 'reject' ? undefined : sites));
  const granted = await deps.client.subscribeAsync(filters, { qos: 1 });
  const refused = granted.filter((g) => g.qos > 2);
  if (refused.length)
    throw new Error(
      `the broker refused the subscriptions ${refused.map((g) => g.topic).join(', ')}: give the service user read access to ${deps.topicRoot}/_svc/# in the broker's ACL`,
    );
  return () => {
    deps.client.off('message', onMessage);
  };
}
