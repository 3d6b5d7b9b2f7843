import type { DeviceRole } from './domain.js';

/** Topic layout (SPEC "MQTT topics"): {root}/{site}/{zone}/{device}/{channel} and {root}/{site}/{zone}/alert. */
export const DEVICE_CHANNELS = ['telemetry', 'status', 'cmd', 'state', 'tags'] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

/**
 * What a device of each role may publish on its own topics (SPEC "Access control"): a sensor its telemetry and
 * status, an actuator also its state (only an actuator has one); an ear-tag reader its tag reads and status. The broker's policy,
 * the Mosquitto ACL and ingest all ask here.
 */
export const PUBLISH_CHANNELS: Record<DeviceRole, readonly DeviceChannel[]> = {
  sensor: ['telemetry', 'status'],
  actuator: ['telemetry', 'status', 'state'],
  reader: ['tags', 'status'],
};

/** The channels the service takes in from devices (what ingest subscribes to when it runs on its own). */
export const INGEST_CHANNELS: readonly DeviceChannel[] = ['telemetry', 'status', 'state', 'tags'];

export interface DeviceTopic {
  site: string;
  zone: string;
  device: string;
  channel: DeviceChannel;
}

export function deviceTopic(root: string, t: Omit<DeviceTopic, 'channel'>, channel: DeviceChannel): string {
  return `${root}/${t.site}/${t.zone}/${t.device}/${channel}`;
}

export function alertTopic(root: string, site: string, zone: string): string {
  return `${root}/${site}/${zone}/alert`;
}

/**
 * Parses a device topic; returns undefined for anything else (alert topics, foreign roots, wrong depth).
 * The result is shared between callers (frozen): every message of a device comes on the same few topics, which
 * the broker's policy and ingest both parse, so the answers are kept (at most MEMO_MAX topics; then forgotten
 * all at once, so a client publishing to random topics costs memory only up to that bound).
 */
export function parseDeviceTopic(root: string, topic: string): Readonly<DeviceTopic> | undefined {
  let memo = memos.get(root);
  if (!memo) memos.set(root, (memo = new Map<string, Readonly<DeviceTopic> | undefined>()));
  const known = memo.get(topic);
  if (known !== undefined || memo.has(topic)) return known;
  const parsed = parse(root, topic);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(topic, parsed);
  return parsed;
}

const MEMO_MAX = 100_000;
const memos = new Map<string, Map<string, Readonly<DeviceTopic> | undefined>>();

function parse(root: string, topic: string): Readonly<DeviceTopic> | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== root) return undefined;
  const [, site, zone, device, channel] = parts;
  if (!(DEVICE_CHANNELS as readonly string[]).includes(channel)) return undefined;
  return Object.freeze({ site, zone, device, channel: channel as DeviceChannel });
}

/** Subscription filters a service uses; `share` turns them into MQTT v5 shared subscriptions. */
export function serviceFilter(root: string, channel: DeviceChannel, share?: string): string {
  const filter = `${root}/+/+/+/${channel}`;
  return share ? `$share/${share}/${filter}` : filter;
}
