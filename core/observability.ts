import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REJECT_REASONS } from './events.js';

/** Prometheus metrics of one process (`/metrics`). Components receive this object; nothing uses the global registry. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'farm_process_' });
  const make = {
    counter: <L extends string>(name: string, help: string, labelNames: L[] = []) => new Counter<L>({ name, help, labelNames, registers: [registry] }),
    gauge: <L extends string>(name: string, help: string, labelNames: L[] = []) => new Gauge<L>({ name, help, labelNames, registers: [registry] }),
  };
  const metrics = {
    registry,
    messages: make.counter('farm_ingest_messages_total', 'Telemetry messages received', ['channel']),
    accepted: make.counter('farm_readings_accepted_total', 'Readings validated and handed to the store'),
    rejected: make.counter('farm_readings_rejected_total', 'Rejected readings and messages by reason', ['reason']),
    duplicates: make.counter(
      'farm_readings_duplicate_total',
      'Values (device, metric, ts) already accepted that came again: acknowledged, not stored, evaluated or shown again',
    ),
    lateReadings: make.counter(
      'farm_readings_late_total',
      'Messages whose readings are stamped more than a minute before the newest of their device: stored, but level rules skip them (ingest/late.ts)',
    ),
    batches: make.counter('farm_store_batches_total', 'Store write batches', ['outcome']),
    batchSize: new Histogram({
      name: 'farm_store_batch_size',
      help: 'Readings per store write batch',
      buckets: [1, 10, 50, 100, 500, 1000, 5000],
      registers: [registry],
    }),
    writeSeconds: new Histogram({
      name: 'farm_store_write_seconds',
      help: 'Store write latency',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    ingestLatency: new Histogram({
      name: 'farm_ingest_durable_seconds',
      help: 'From message arrival to durable in store or outbox',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    mqttClients: make.gauge('farm_mqtt_clients_connected', 'Connected MQTT clients', ['kind']),
    authFailures: make.counter('farm_mqtt_auth_failures_total', 'Refused MQTT CONNECTs', ['reason']),
    rateLimited: make.counter('farm_mqtt_rate_limited_total', 'Clients disconnected for exceeding their message rate'),
    oversizePackets: make.counter(
      'farm_mqtt_oversize_packets_total',
      'MQTT packets announced larger than allowed, refused before reading them (the connection is closed)',
      ['stage'],
    ),
    retainCleared: make.counter(
      'farm_mqtt_retain_cleared_total',
      'Device messages published with retain on a topic that is not retained (taken, not retained)',
    ),
    refusedSubscriptions: make.counter('farm_mqtt_refused_subscriptions_total', 'Refused MQTT subscriptions'),
    outboxDepth: make.gauge('farm_outbox_depth', 'Entries (readings, alert events, command records) waiting in the on-disk outbox for InfluxDB'),
    outboxAgeSeconds: make.gauge('farm_outbox_oldest_age_seconds', 'Age of the oldest entry waiting in the outbox'),
    tagReads: make.counter('farm_tag_reads_total', 'Ear-tag reads accepted (new) or recognised as a read already taken (duplicate: a redelivery)', ['outcome']),
    ruleEvaluations: make.counter('farm_rule_evaluations_total', 'Readings evaluated by the rules engine'),
    alerts: make.counter('farm_alert_events_total', 'Alert events', ['state', 'severity']),
    commands: make.counter('farm_actuator_commands_total', 'Actuator commands sent', ['reason']),
    socketClients: make.gauge('farm_socketio_clients', 'Connected socket.io clients'),
    devicesOnline: make.gauge('farm_devices_online', 'Devices whose last status report is online (their own status topic or Last Will)'),
    ruleFirings: make.counter('farm_rule_firings_total', 'Rule instances that fired (alert raised)', ['rule']),
    serviceEvents: make.counter('farm_cluster_events_total', 'Events exchanged with other processes over MQTT (split mode)', ['direction', 'event']),
    serviceEventsDropped: make.counter(
      'farm_cluster_events_dropped_total',
      'Events from other processes dropped as unreadable or not in the shape of their event (split mode)',
      ['event'],
    ),
    notifications: make.counter(
      'farm_notification_attempts_total',
      'Attempts to send a notification, by channel and what came of it (sent, retrying, failed)',
      ['channel', 'outcome'],
    ),
    rpcCalls: make.counter('farm_cluster_rpc_total', 'Requests to the rules processes over MQTT (split mode)', ['method', 'outcome']),
  };
  for (const reason of REJECT_REASONS) metrics.rejected.inc({ reason }, 0);
  for (const outcome of ['accepted', 'duplicate']) metrics.tagReads.inc({ outcome }, 0);
  return metrics;
}

export type FarmMetrics = ReturnType<typeof createMetrics>;
