/**
 * Connection-level protection of the broker, decided here from counters and a clock; the broker does the I/O.
 * What a broker operator expects (EMQX calls the third one "flapping detection"):
 * - pending: sockets from one address that have not completed CONNECT are capped, so a scanner or a
 *   slow-loris cannot hold every file descriptor. Authenticated connections are bounded per identity
 *   instead, so one address holds at most (devices it has secrets for) × maxConnectionsPerDevice + the cap.
 * - per device: at most maxConnectionsPerDevice live connections; a newer one takes over the oldest, as MQTT
 *   does for a client id, so a rebooted device whose old TCP connection is still half-open gets in at once.
 * - flapping: an identity that connects more than maxConnectsPerMinute times within a minute (a reconnect
 *   loop) is refused for banMs, before its secret is even checked.
 * - guessing: more than maxAuthFailuresPerMinute refused CONNECTs for one username from one address ban that
 *   (address, username) pair for banMs. Keyed by the pair, not the address alone: a device with a wrong secret
 *   behind a farm's NAT locks out only itself, not every device behind the same router.
 */
export interface ConnectionLimitOptions {
  maxPendingPerAddress: number;
  maxConnectionsPerDevice: number;
  maxConnectsPerMinute: number;
  maxAuthFailuresPerMinute: number;
  banMs: number;
  /** From TCP accept (before any TLS handshake) until the CONNECT is accepted; then the socket is closed. */
  connectTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimitOptions = {
  // Above the 200 connections the load runner opens at once from one host (simulators/load-runner.ts).
  maxPendingPerAddress: 256,
  maxConnectionsPerDevice: 4,
  // One a second on average; EMQX's default is 15 a minute, but tests and simulators reconnect legitimately often.
  maxConnectsPerMinute: 60,
  maxAuthFailuresPerMinute: 10,
  banMs: 60_000,
  // aedes' default is 30 s; a device on a slow mobile link still finishes a TLS handshake and its CONNECT in far less.
  connectTimeoutMs: 10_000,
};

const WINDOW_MS = 60_000;

export type BanReason = 'flapping' | 'auth_failures';
export interface Ban {
  reason: BanReason;
  untilMs: number;
}

export interface ConnectionLimits {
  /** A new socket from `address`: false when the address already has its cap of unauthenticated sockets. */
  admitSocket(address: string): boolean;
  /** The socket admitted for `address` authenticated or closed: it no longer counts as pending. Call once. */
  socketSettled(address: string): void;
  /** A ban in force for this CONNECT (checked before the secret), or undefined. */
  banFor(address: string, username: string | undefined, identityKey: string | undefined): Ban | undefined;
  /** A refused CONNECT for a known username; returns the ban it triggers, if any. */
  authFailed(address: string, username: string): Ban | undefined;
  /** A successful CONNECT of an identity; returns the ban it triggers when it connects too often. */
  connected(identityKey: string): Ban | undefined;
  /** Forgets windows and bans that have run out; bounds memory under attack. */
  sweep(): void;
  pendingOf(address: string): number;
}

export function createConnectionLimits(options: ConnectionLimitOptions, now: () => number = Date.now): ConnectionLimits {
  const pending = new Map<string, number>();
  const connects = new Map<string, number[]>();
  const failures = new Map<string, number[]>();
  const bans = new Map<string, Ban>();
  const pairKey = (address: string, username: string) => `auth|${address}|${username}`;
  const flapKey = (identity: string) => `flap|${identity}`;

  /** Adds an event to a sliding one-minute window; true once the window holds more than `max`. */
  function overLimit(windows: Map<string, number[]>, key: string, max: number, t: number): boolean {
    const list = (windows.get(key) ?? []).filter((at) => at > t - WINDOW_MS);
    list.push(t);
    windows.set(key, list.slice(-(max + 1)));
    return list.length > max;
  }

  function activeBan(key: string, t: number): Ban | undefined {
    const ban = bans.get(key);
    if (!ban) return undefined;
    if (ban.untilMs > t) return ban;
    bans.delete(key);
    return undefined;
  }

  function ban(key: string, windows: Map<string, number[]>, reason: BanReason, t: number): Ban {
    const b = { reason, untilMs: t + options.banMs };
    bans.set(key, b);
    windows.delete(key); // the ban is the consequence; afterwards the identity starts with a clean slate
    return b;
  }

  return {
    admitSocket(address) {
      const n = pending.get(address) ?? 0;
      if (n >= options.maxPendingPerAddress) return false;
      pending.set(address, n + 1);
      return true;
    },
    socketSettled(address) {
      const n = (pending.get(address) ?? 0) - 1;
      if (n > 0) pending.set(address, n);
      else pending.delete(address);
    },
    banFor(address, username, identityKey) {
      const t = now();
      return (
        (username !== undefined ? activeBan(pairKey(address, username), t) : undefined) ??
        (identityKey !== undefined ? activeBan(flapKey(identityKey), t) : undefined)
      );
    },
    authFailed(address, username) {
      const t = now();
      const key = pairKey(address, username);
      return overLimit(failures, key, options.maxAuthFailuresPerMinute, t) ? ban(key, failures, 'auth_failures', t) : undefined;
    },
    connected(identityKey) {
      const t = now();
      const key = flapKey(identityKey);
      return overLimit(connects, key, options.maxConnectsPerMinute, t) ? ban(key, connects, 'flapping', t) : undefined;
    },
    sweep() {
      const t = now();
      for (const windows of [connects, failures]) for (const [key, list] of windows) if (list[list.length - 1] <= t - WINDOW_MS) windows.delete(key);
      for (const [key, b] of bans) if (b.untilMs <= t) bans.delete(key);
    },
    pendingOf: (address) => pending.get(address) ?? 0,
  };
}

/** The limits set in the environment (MQTT_MAX_*, MQTT_BAN); what is not set keeps its default. */
export function connectionLimitsFromEnv(env: {
  MQTT_MAX_PENDING_PER_ADDRESS?: number;
  MQTT_MAX_CONNECTIONS_PER_DEVICE?: number;
  MQTT_MAX_CONNECTS_PER_MINUTE?: number;
  MQTT_MAX_AUTH_FAILURES_PER_MINUTE?: number;
  MQTT_BAN?: number;
  MQTT_CONNECT_TIMEOUT?: number;
}): Partial<ConnectionLimitOptions> {
  const set: Partial<ConnectionLimitOptions> = {
    maxPendingPerAddress: env.MQTT_MAX_PENDING_PER_ADDRESS,
    maxConnectionsPerDevice: env.MQTT_MAX_CONNECTIONS_PER_DEVICE,
    maxConnectsPerMinute: env.MQTT_MAX_CONNECTS_PER_MINUTE,
    maxAuthFailuresPerMinute: env.MQTT_MAX_AUTH_FAILURES_PER_MINUTE,
    banMs: env.MQTT_BAN,
    connectTimeoutMs: env.MQTT_CONNECT_TIMEOUT,
  };
  return Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined));
}
