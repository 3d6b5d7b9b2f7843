import type { FarmIndex, IndexedDevice } from '../core/farm-index.js';
import { checkSecret, type StoredSecret } from '../core/secrets.js';
import { parseDeviceTopic, PUBLISH_CHANNELS } from '../core/topics.js';

/**
 * Access control (SPEC "Access control") as plain functions, injected into the broker the way aedes expects:
 * who may connect, what each identity may publish and subscribe to.
 */
export type Identity = { kind: 'device'; device: IndexedDevice } | { kind: 'service'; username: string };

export type AuthResult = { ok: true; identity: Identity } | { ok: false; reason: 'unknown_device' | 'bad_secret' | 'no_secret' | 'no_credentials' };

export interface ServiceCredentials {
  username: string;
  password?: string;
}

/**
 * Every refusal of a name and password costs the same (core/secrets.ts checkSecret): an unknown device, a device
 * with a plain development secret and one with a scrypt hash cannot be told apart by how long the refusal takes.
 */
export async function authenticate(
  farm: FarmIndex,
  service: ServiceCredentials,
  username: string | undefined,
  password: Buffer | undefined,
): Promise<AuthResult> {
  if (!username || !password) return { ok: false, reason: 'no_credentials' };
  const given = password.toString('utf8');
  if (username === service.username) {
    if (await checkSecret(given, service.password ? { kind: 'plain', secret: service.password } : { kind: 'none' }))
      return { ok: true, identity: { kind: 'service', username } };
    return { ok: false, reason: service.password ? 'bad_secret' : 'no_secret' };
  }
  const device = farm.device(username);
  const { secret, secretHash } = device?.config ?? {};
  const stored: StoredSecret = secretHash ? { kind: 'hash', hash: secretHash } : secret ? { kind: 'plain', secret } : { kind: 'none' };
  if (await checkSecret(given, stored)) return { ok: true, identity: { kind: 'device', device: device! } };
  return { ok: false, reason: !device ? 'unknown_device' : stored.kind === 'none' ? 'no_secret' : 'bad_secret' };
}

/**
 * A device publishes only on its own topics, and only the channels of its role (core/topics.ts PUBLISH_CHANNELS):
 * a sensor its telemetry and status, an actuator also its state, an ear-tag reader its tags and status. Services
 * publish anything but $SYS.
 */
export function mayPublish(identity: Identity, topicRoot: string, topic: string): boolean {
  if (topic.startsWith('$')) return false;
  if (identity.kind === 'service') return true;
  const t = parseDeviceTopic(topicRoot, topic);
  const d = identity.device;
  return !!t && t.site === d.site && t.zone === d.zone && t.device === d.device && PUBLISH_CHANNELS[d.role].includes(t.channel);
}

/**
 * What a device may have the broker retain (SPEC "MQTT topics"): its status (also its Last Will) and an actuator's
 * state, the latest of which is what a newcomer needs. Readings are not retained: one would be replayed to every
 * new subscriber as if new. Asked only for a publish that mayPublish allowed.
 */
export function mayRetain(identity: Identity, topicRoot: string, topic: string): boolean {
  if (identity.kind === 'service') return true;
  const channel = parseDeviceTopic(topicRoot, topic)?.channel;
  return channel === 'status' || channel === 'state';
}

/**
 * Client ids (MQTT 3.1.1 §3.1.3.1). The standard requires a broker to take 1 to 23 characters and allows more;
 * device ids alone can be 64, so we take up to 128 (aedes' own check covers MQTT 3.1 only), as room for
 * `<device id>/<suffix>`. Longer ids are refused (CONNACK 2) before the secret is checked.
 */
export const MAX_CLIENT_ID_LENGTH = 128;

/**
 * A client id belongs to one identity, so nobody can knock another's session off by connecting under its id (MQTT
 * closes the older connection of a client id). A device's own id and `<device id>/<anything>` (a second connection
 * of the device: `/` cannot occur in a device id, so the prefix is unambiguous) are that device's; every other id
 * is the service components'. An id the broker assigned for an empty one is random and nobody's.
 */
export type ClientIdOwner = { kind: 'device'; device: string } | { kind: 'service' };

export function clientIdOwner(farm: Pick<FarmIndex, 'device'>, clientId: string): ClientIdOwner {
  const slash = clientId.indexOf('/');
  const candidate = slash === -1 ? clientId : clientId.slice(0, slash);
  return farm.device(candidate) ? { kind: 'device', device: candidate } : { kind: 'service' };
}

export type ClientIdVerdict = { ok: true } | { ok: false; reason: 'client_id_too_long' | 'foreign_client_id'; message: string };

export function checkClientIdLength(clientId: string): ClientIdVerdict {
  return clientId.length <= MAX_CLIENT_ID_LENGTH
    ? { ok: true }
    : {
        ok: false,
        reason: 'client_id_too_long',
        message: `client id is ${clientId.length} characters, at most ${MAX_CLIENT_ID_LENGTH} are allowed: use the device id`,
      };
}

export function mayUseClientId(farm: Pick<FarmIndex, 'device'>, identity: Identity, clientId: string, brokerAssigned: boolean): ClientIdVerdict {
  if (brokerAssigned) return { ok: true };
  const owner = clientIdOwner(farm, clientId);
  if (identity.kind === 'device') {
    if (owner.kind === 'device' && owner.device === identity.device.device) return { ok: true };
    return {
      ok: false,
      reason: 'foreign_client_id',
      message: `a device connects with its own id as client id (${identity.device.device}, or ${identity.device.device}/<suffix>)`,
    };
  }
  if (owner.kind === 'service') return { ok: true };
  return {
    ok: false,
    reason: 'foreign_client_id',
    message: `client id ${clientId} belongs to device ${owner.device}: give this service process another INSTANCE_ID`,
  };
}

/** A sensor or actuator subscribes only to its own cmd topic, exactly (no wildcards); a reader takes no commands. */
export function maySubscribe(identity: Identity, topicRoot: string, filter: string): boolean {
  if (identity.kind === 'service') return true;
  const d = identity.device;
  return d.role !== 'reader' && filter === `${topicRoot}/${d.site}/${d.zone}/${d.device}/cmd`;
}
