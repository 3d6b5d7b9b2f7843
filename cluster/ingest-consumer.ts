import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { INGEST_CHANNELS, serviceFilter } from '../core/topics.js';
import type { Ingest } from '../ingest/ingest.js';
import { handleWithDeferredAcks } from './deferred-ack.js';
import { ingestStatsTopic } from './service-topics.js';

/**
 * Feeds device messages from an external broker into ingest. With MQTT v5 the subscriptions are shared
 * ($share/{group}/{root}/+/+/+/telemetry ...), so the broker gives each message to one ingest process of the
 * group; a QoS 1 message is acknowledged only when ingest has made it durable (deferred-ack.ts). Which device
 * sent it is not known here: the broker's ACL has already confined each device to its own topics.
 */
export interface IngestConsumerOptions {
  topicRoot: string;
  /** Shared-subscription group, or undefined for plain subscriptions (one ingest process only). */
  shareGroup?: string;
  instance: string;
  statsEveryMs?: number;
}

const CHANNELS = INGEST_CHANNELS;

/** Installs the message handler; call before connecting so a resumed session's redeliveries are handled. */
export function prepareIngestConsumer(client: MqttClient, ingest: Ingest, logger: Logger) {
  let reconnecting = false;
  return handleWithDeferredAcks(
    client,
    (topic, payload, packet) => ingest.handleMessage(topic, payload, undefined, { qos: packet.qos }),
    (err, topic) => {
      logger.error({ err, topic }, 'could not store readings: not acknowledging them; reconnecting so the broker delivers them again');
      // The broker resends unacknowledged messages only on a new connection of the same session.
      if (reconnecting) return;
      reconnecting = true;
      setTimeout(() => {
        reconnecting = false;
        (client as MqttClient & { stream?: { destroy(): void } }).stream?.destroy();
      }, 1000).unref();
    },
  );
}

export async function subscribeDeviceTopics(client: MqttClient, o: IngestConsumerOptions): Promise<string[]> {
  const filters = CHANNELS.map((channel) => serviceFilter(o.topicRoot, channel, o.shareGroup));
  const granted = await client.subscribeAsync(filters, { qos: 1 });
  const refused = granted.filter((g) => g.qos > 2);
  if (refused.length)
    throw new Error(
      `the broker refused ${refused.map((g) => g.topic).join(', ')}: give the service user read access to ${o.topicRoot}/# (and $share/# on Mosquitto) in its ACL`,
    );
  return filters;
}

/** Keeps this process's ingest counters as a retained message, so the dashboard can sum every ingest process. */
export function publishIngestStats(client: MqttClient, ingest: Ingest, o: IngestConsumerOptions): () => Promise<void> {
  const publish = () =>
    client.publishAsync(ingestStatsTopic(o.topicRoot, o.instance), JSON.stringify(ingest.stats()), { qos: 1, retain: true }).catch(() => undefined);
  const timer = setInterval(() => void publish(), o.statsEveryMs ?? 2000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    if (client.connected) await publish();
  };
}
