import type { FarmIndex, IndexedDevice } from '../core/farm-index.js';
import { plainSecretMatches, verifySecret } from '../core/secrets.js';
import { parseDeviceTopic } from '../core/topics.js';

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

export async function authenticate(farm: FarmIndex, service: ServiceCredentials, username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
  if (!username || !password) return { ok: false, reason: 'no_credentials' };
  const given = password.toString('utf8');
  if (username === service.username) {
    if (service.password && plainSecretMatches(given, service.password)) return { ok: true, identity: { kind: 'service', username } };
    return { ok: false, reason: service.password ? 'bad_secret' : 'no_secret' };
  }
  const device = farm.device(username);
  if (!device) return { ok: false, reason: 'unknown_device' };
  const { secret, secretHash } = device.config;
  if (secretHash) return (await verifySecret(given, secretHash)) ? { ok: true, identity: { kind: 'device', device } } : { ok: false, reason: 'bad_secret' };
  if (secret) return plainSecretMatches(given, secret) ? { ok: true, identity: { kind: 'device', device } } : { ok: false, reason: 'bad_secret' };
  return { ok: false, reason: 'no_secret' };
}

/** A device publishes only its own telemetry, status and state; services publish anything but $SYS. */
export function mayPublish(identity: Identity, topicRoot: string, topic: string): boolean {
  if (topic.startsWith('$')) return false;
  if (identity.kind === 'service') return true;
  const t = parseDeviceTopic(topicRoot, topic);
  const d = identity.device;
  return !!t && t.site === d.site && t.zone === d.zone && t.device === d.device && (t.channel === 'telemetry' || t.channel === 'status' || t.channel === 'state');
}

/** A device subscribes only to its own cmd topic, exactly (no wildcards). */
export function maySubscribe(identity: Identity, topicRoot: string, filter: string): boolean {
  if (identity.kind === 'service') return true;
  const d = identity.device;
  return filter === `${topicRoot}/${d.site}/${d.zone}/${d.device}/cmd`;
}
