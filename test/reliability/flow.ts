import mqtt, { type MqttClient } from 'mqtt';
import { influxql } from '../helpers/influxd.js';

/**
 * A steady flow of QoS 1 readings from real MQTT devices, recording what was sent and what got a PUBACK,
 * for the fault tests: every acknowledged reading must end up stored exactly once.
 */
export interface FlowDevice {
  id: string;
  secret: string;
  topic: string;
}

export interface FlowOptions {
  /** One reading per device every intervalMs. */
  intervalMs: number;
  /** Timestamps are base + i (ms), unique per device and in publish order. */
  base: number;
  maxInflight?: number;
  /** Persistent session (clean: false) and automatic reconnect: what a device that must not lose readings does. */
  persistent?: boolean;
}

export interface Flow {
  readonly clients: MqttClient[];
  sent(device: string): number[];
  acked(device: string): Set<number>;
  sentTotal(): number;
  ackedTotal(): number;
  /** PUBACK latencies (ms) of readings acknowledged since the last call. */
  takeLatencies(): number[];
  /** Stops publishing new readings; waits (bounded) until every one in flight is acknowledged. */
  stop(settleMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** nh3 below every rule's threshold, so the flow triggers no rule and the test sees only the reliability path. */
export const flowValue = (ts: number) => (ts % 100) / 10;

export async function startFlow(port: number, devices: FlowDevice[], opts: FlowOptions): Promise<Flow> {
  const maxInflight = opts.maxInflight ?? 50;
  const sent = new Map(devices.map((d) => [d.id, [] as number[]]));
  const acked = new Map(devices.map((d) => [d.id, new Set<number>()]));
  const inflight = new Map(devices.map((d) => [d.id, 0]));
  let latencies: number[] = [];
  let running = true;

  const clients = await Promise.all(
    devices.map(
      (d) =>
        new Promise<MqttClient>((resolve, reject) => {
          const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
            clientId: d.id,
            username: d.id,
            password: d.secret,
            clean: !opts.persistent,
            reconnectPeriod: opts.persistent ? 200 : 0,
            connectTimeout: 3000,
          });
          client.once('connect', () => resolve(client));
          if (opts.persistent)
            client.on('error', () => {}); // reconnects by itself while the service is down
          else client.once('error', reject);
        }),
    ),
  );

  const loops = devices.map(async (d, i) => {
    const client = clients[i];
    let n = 0;
    while (running) {
      if (inflight.get(d.id)! < maxInflight) {
        const ts = opts.base + n++;
        sent.get(d.id)!.push(ts);
        inflight.set(d.id, inflight.get(d.id)! + 1);
        const at = performance.now();
        client
          .publishAsync(d.topic, JSON.stringify({ ts, metrics: { nh3: flowValue(ts) } }), { qos: 1 })
          .then(
            () => {
              acked.get(d.id)!.add(ts);
              latencies.push(performance.now() - at);
            },
            () => {},
          )
          .finally(() => inflight.set(d.id, inflight.get(d.id)! - 1));
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs));
    }
  });

  const total = (m: Map<string, { length?: number; size?: number }>) => [...m.values()].reduce((s, v) => s + (v.length ?? v.size ?? 0), 0);

  return {
    clients,
    sent: (device) => sent.get(device)!,
    acked: (device) => acked.get(device)!,
    sentTotal: () => total(sent),
    ackedTotal: () => total(acked),
    takeLatencies() {
      const l = latencies;
      latencies = [];
      return l;
    },
    async stop(settleMs = 30_000) {
      running = false;
      await Promise.all(loops);
      const deadline = Date.now() + settleMs;
      while ([...inflight.values()].some((n) => n > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    },
  };
}

/** Every stored nh3 point of a device in InfluxDB, ts → value, read straight from influxd (not through the service). */
export async function influxPoints(url: string, db: string, device: string): Promise<Map<number, number>> {
  const [result] = await influxql(url, `SELECT "nh3" FROM "telemetry" WHERE "device" = '${device}'`, { db });
  return new Map((result?.series?.[0]?.values ?? []).map((v) => [Number(v[0]), Number(v[1])]));
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
