import type { DeviceRole } from '../core/domain.js';
import { deviceTopic } from '../core/topics.js';
import { STORE_AND_FORWARD_LIMIT } from './models/faults.js';
import { createDeviceClient, type DeviceClient } from './device-client.js';

/**
 * The simulated devices' MQTT connections: one client per device, messages held until a device is
 * connected (so its `online` status precedes what it sends), and every publish tracked until the broker
 * acknowledged it, so a lockstep runner can wait for the service to have seen a step before the next.
 */
export interface FleetDevice {
  site: string;
  zone: string;
  device: string;
  role: DeviceRole;
}

export type FleetChannel = 'telemetry' | 'state' | 'tags';

export interface DeviceFleetOptions {
  brokerUrl: string;
  brokerTls?: { rejectUnauthorized: boolean };
  topicRoot: string;
  devices: readonly FleetDevice[];
  /** QoS of telemetry (SPEC allows 0 or 1); states and status are always QoS 1. */
  telemetryQos: 0 | 1;
  onConnect(device: string): void;
  onCommand(device: string, payload: Buffer): void;
  onSent(device: string, channel: FleetChannel): void;
  onError(err: Error, device: string, fatal: boolean): void;
  /** The broker closed a device's connection (not this side). */
  onClosedByBroker?(device: string): void;
}

export interface DeviceFleet {
  connect(device: string, password: string): void;
  has(device: string): boolean;
  connected(device: string): boolean;
  /** A crash: the socket goes without DISCONNECT, the broker publishes the device's will. */
  drop(device: string): void;
  /** An object goes out as JSON; a string as is (a deliberately malformed payload). */
  publish(device: string, channel: FleetChannel, payload: Record<string, unknown> | string): void;
  connectedCount(): number;
  /** Clients that are neither connected nor refused yet. */
  connecting(): number;
  /** Publishes sent and not yet acknowledged, plus messages held for devices that are still connecting. */
  inFlight(): number;
  /** Resolves true once nothing is in flight, false if that did not happen within timeoutMs. */
  idle(timeoutMs: number): Promise<boolean>;
  closeAll(): Promise<void>;
}

export function createDeviceFleet(o: DeviceFleetOptions): DeviceFleet {
  const where = new Map(o.devices.map((d) => [d.device, d]));
  const clients = new Map<string, DeviceClient>();
  const held = new Map<string, { channel: FleetChannel; payload: Record<string, unknown> | string }[]>();
  let sending = 0;
  let waiters: (() => void)[] = [];
  const topic = (device: string, channel: 'telemetry' | 'status' | 'cmd' | 'state' | 'tags') => deviceTopic(o.topicRoot, where.get(device)!, channel);

  const heldForLive = () => {
    let n = 0;
    for (const [device, list] of held) if (clients.get(device) && !clients.get(device)!.refused()) n += list.length;
    return n;
  };
  const inFlight = () => sending + heldForLive();
  const wake = () => {
    if (inFlight() > 0 || waiters.length === 0) return;
    const w = waiters;
    waiters = [];
    for (const fn of w) fn();
  };

  function send(device: string, client: DeviceClient, channel: FleetChannel, payload: Record<string, unknown> | string): void {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const opts = channel === 'state' ? { qos: 1 as const, retain: true } : { qos: o.telemetryQos };
    sending++;
    client
      .publish(topic(device, channel), body, opts)
      .then(
        () => o.onSent(device, channel),
        (err: Error) => o.onError(err, device, false),
      )
      .finally(() => {
        sending--;
        wake();
      });
  }

  function connect(device: string, password: string): void {
    const info = where.get(device);
    if (!info) throw new Error(`${device} is not a device of the simulated farm`);
    const client = createDeviceClient({
      brokerUrl: o.brokerUrl,
      brokerTls: o.brokerTls,
      device,
      password,
      statusTopic: topic(device, 'status'),
      cmdTopic: info.role === 'actuator' ? topic(device, 'cmd') : undefined,
      onConnect: () => {
        o.onConnect(device);
        const list = held.get(device) ?? [];
        held.delete(device);
        for (const m of list) send(device, client, m.channel, m.payload);
        wake();
      },
      onCommand: (payload) => o.onCommand(device, payload),
      onClose: (deliberate) => {
        if (!deliberate) o.onClosedByBroker?.(device);
      },
      onError: (err, fatal) => {
        o.onError(err, device, fatal);
        if (fatal) {
          held.delete(device);
          wake();
        }
      },
    });
    clients.set(device, client);
  }

  return {
    connect,
    has: (device) => clients.has(device),
    connected: (device) => clients.get(device)?.connected() ?? false,
    drop(device) {
      clients.get(device)?.drop();
      clients.delete(device);
      held.delete(device);
      wake();
    },
    publish(device, channel, payload) {
      const client = clients.get(device);
      if (!client || client.refused()) return;
      if (!client.connected()) {
        held.set(device, [...(held.get(device) ?? []), { channel, payload }].slice(-STORE_AND_FORWARD_LIMIT));
        return;
      }
      send(device, client, channel, payload);
    },
    connectedCount: () => {
      let n = 0;
      for (const c of clients.values()) if (c.connected()) n++;
      return n;
    },
    connecting: () => {
      let n = 0;
      for (const c of clients.values()) if (!c.connected() && !c.refused()) n++;
      return n;
    },
    inFlight,
    idle(timeoutMs) {
      if (inFlight() === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        waiters.push(done);
      });
    },
    async closeAll() {
      await Promise.all([...clients.values()].map((c) => c.close()));
      clients.clear();
      held.clear();
      wake();
    },
  };
}
