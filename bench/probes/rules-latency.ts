import { createRawClient } from '../load/raw-mqtt.js';
import { createRng, readingPayload } from '../load/payload.js';
import type { LoadDeviceSpec } from '../load/protocol.js';
import { newHistogram, record, type Histogram } from '../stats.js';

/**
 * Sensor publish -> actuator command received. A shed sensor alternates a reading that fires a rule (h2s
 * above the demo rule `shed-h2s`: fan on) with one that clears it (fan off); the shed's fan, connected as a
 * real actuator, times each command from the moment the reading was published and acknowledges it the way
 * SPEC says (state with `ack` = command id), so the engine never retries.
 */
export interface RulesLatencyResult {
  latency: Histogram;
  /** Readings published (counted towards the stored total). */
  sent: number;
  acked: number;
  /** Probe readings after which no matching command arrived before the next one. */
  missed: number;
}

export interface ActuatorSpec {
  id: string;
  password: string;
  cmdTopic: string;
  stateTopic: string;
}

export async function measureRulesLatency(o: {
  host: string;
  port: number;
  sensor: LoadDeviceSpec;
  actuator: ActuatorSpec;
  metric: string;
  fire: number;
  clear: number;
  everyMs: number;
  durationMs: number;
  measuring: () => boolean;
}): Promise<RulesLatencyResult> {
  const latency = newHistogram();
  let outstanding: { action: 'on' | 'off'; sentAt: number } | undefined;
  let missed = 0;
  let acked = 0;
  const actuator = createRawClient(
    { host: o.host, port: o.port, clientId: o.actuator.id, username: o.actuator.id, password: o.actuator.password, keepaliveSec: 60 },
    {
      onMessage: (topic, payload) => {
        const receivedAt = Date.now();
        if (topic !== o.actuator.cmdTopic) return;
        const cmd = JSON.parse(payload.toString()) as { id: string; action: string; value?: number };
        if (outstanding && cmd.action === outstanding.action) {
          if (o.measuring()) record(latency, receivedAt - outstanding.sentAt);
          outstanding = undefined;
        }
        const state = { state: cmd.action === 'off' ? 'off' : 'on', value: cmd.action === 'off' ? 0 : (cmd.value ?? 100), ack: cmd.id, ts: receivedAt };
        actuator.publish(o.actuator.stateTopic, JSON.stringify(state), 1, true);
      },
    },
  );
  await actuator.connect();
  if ((await actuator.subscribe(o.actuator.cmdTopic, 1)) === 0x80)
    throw new Error(`the service refused ${o.actuator.id}'s subscription to ${o.actuator.cmdTopic}`);
  const sensor = createRawClient(
    { host: o.host, port: o.port, clientId: o.sensor.id, username: o.sensor.id, password: o.sensor.password, keepaliveSec: 60 },
    { onPuback: () => void acked++ },
  );
  await sensor.connect();

  const rng = createRng(11);
  let sent = 0;
  let lastTs = 0;
  let high = true;
  const publish = (value: number) => {
    const ts = (lastTs = Math.max(Date.now(), lastTs + 1));
    sensor.publish(o.sensor.topic, readingPayload(ts, o.sensor.metrics, rng, { [o.metric]: value }), 1);
    sent++;
    return ts;
  };
  // Start from a calm reading so the first probe is a clean off -> on edge.
  publish(o.clear);
  await new Promise((r) => setTimeout(r, Math.min(1000, o.everyMs * 2)));
  const stopAt = Date.now() + o.durationMs;
  while (Date.now() < stopAt) {
    if (outstanding && o.measuring()) missed++;
    const action = high ? 'on' : 'off';
    const sentAt = Date.now();
    outstanding = { action, sentAt };
    publish(high ? o.fire : o.clear);
    high = !high;
    await new Promise((r) => setTimeout(r, o.everyMs));
  }
  // End calm (fan off) so the rule leaves nothing held.
  if (!high) {
    outstanding = undefined;
    publish(o.clear);
    await new Promise((r) => setTimeout(r, Math.min(1000, o.everyMs * 2)));
  }
  await sensor.end();
  await actuator.end();
  return { latency, sent, acked, missed };
}
