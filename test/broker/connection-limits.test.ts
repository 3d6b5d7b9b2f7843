import { describe, expect, it } from 'vitest';
import { connectionLimitsFromEnv, createConnectionLimits, DEFAULT_CONNECTION_LIMITS } from '../../broker/connection-limits.js';

/** The broker's connection limits as plain decisions over a fake clock. */
function limits(overrides = {}) {
  const clock = { t: 1_000_000 };
  const l = createConnectionLimits(
    { ...DEFAULT_CONNECTION_LIMITS, maxPendingPerAddress: 2, maxConnectsPerMinute: 3, maxAuthFailuresPerMinute: 2, banMs: 10_000, ...overrides },
    () => clock.t,
  );
  return { l, clock };
}

describe('connection limits', () => {
  it('admits unauthenticated sockets of one address up to the cap, and again once one settles', () => {
    const { l } = limits();
    expect([l.admitSocket('a'), l.admitSocket('a'), l.admitSocket('a'), l.admitSocket('b')]).toEqual([true, true, false, true]);
    l.socketSettled('a');
    expect(l.admitSocket('a')).toBe(true);
    expect(l.pendingOf('a')).toBe(2);
  });

  it('bans an identity that connects more often than allowed within a minute, for banMs, then forgets it', () => {
    const { l, clock } = limits();
    expect([l.connected('device:x'), l.connected('device:x'), l.connected('device:x')]).toEqual([undefined, undefined, undefined]);
    expect(l.connected('device:x')).toEqual({ reason: 'flapping', untilMs: clock.t + 10_000 });
    expect(l.banFor('any-address', 'x', 'device:x')).toMatchObject({ reason: 'flapping' });
    expect(l.banFor('any-address', 'y', 'device:y')).toBeUndefined();
    clock.t += 10_000;
    expect(l.banFor('any-address', 'x', 'device:x')).toBeUndefined();
    expect(l.connected('device:x')).toBeUndefined(); // a clean slate after the ban
  });

  it('counts connections in a sliding minute: spread out, the same number is fine', () => {
    const { l, clock } = limits();
    for (let i = 0; i < 10; i++) {
      expect(l.connected('device:x')).toBeUndefined();
      clock.t += 21_000;
    }
  });

  it('bans an (address, name) pair after too many wrong secrets, not the name from elsewhere', () => {
    const { l } = limits();
    expect(l.authFailed('10.0.0.9', 'fan')).toBeUndefined();
    expect(l.authFailed('10.0.0.9', 'fan')).toBeUndefined();
    expect(l.authFailed('10.0.0.9', 'fan')).toMatchObject({ reason: 'auth_failures' });
    expect(l.banFor('10.0.0.9', 'fan', 'device:fan')).toMatchObject({ reason: 'auth_failures' });
    expect(l.banFor('10.0.0.7', 'fan', 'device:fan')).toBeUndefined();
    expect(l.banFor('10.0.0.9', 'spray', 'device:spray')).toBeUndefined();
  });

  it('sweeps windows and bans that ran out, so an attack leaves no memory behind', () => {
    const { l, clock } = limits();
    for (let i = 0; i < 1000; i++) l.authFailed(`10.0.${i}.1`, 'fan');
    l.connected('device:x');
    clock.t += 61_000;
    l.sweep();
    // Nothing left to trigger: each pair starts from zero again.
    expect(l.authFailed('10.0.1.1', 'fan')).toBeUndefined();
    expect(l.authFailed('10.0.1.1', 'fan')).toBeUndefined();
  });

  it('takes from the environment only what is set', () => {
    expect(connectionLimitsFromEnv({ MQTT_MAX_CONNECTIONS_PER_DEVICE: 1, MQTT_BAN: 5000 })).toEqual({ maxConnectionsPerDevice: 1, banMs: 5000 });
  });
});
