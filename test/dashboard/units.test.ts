import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import { createCoalescer, mergeReadings } from '../../dashboard/coalesce.js';
import { bucketsTotal, sustainedMinimum } from '../../dashboard/drainage.js';
import { toErrorReply } from '../../dashboard/errors.js';
import { ActuatorError } from '../../rules/handle.js';
import { createLoginLimiter } from '../../dashboard/login-limiter.js';
import { openAccessDb } from '../../dashboard/access/db.js';
import { createSessionStore, roleAllows } from '../../dashboard/sessions.js';
import { DEFAULT_FILL_LEVELS, fillGrade, fillLevels, worstSeverity } from '../../dashboard/site-view.js';
import { autoEveryMs, bucketCount, parseTimeArg } from '../../dashboard/time.js';
import { jsonDepth, MAX_JSON_DEPTH } from '../../dashboard/json-body.js';
import { createUserDirectory } from '../../dashboard/users.js';
import { silentLogger } from '../../core/logger.js';
import { verifySecret } from '../../core/secrets.js';
import { PASSWORDS, testFarmConfig } from './fixtures.js';

const NOW = Date.parse('2024-11-22T10:00:00Z');

describe('time arguments', () => {
  it('reads epoch ms, ISO-8601, now and relative times', () => {
    expect(parseTimeArg('1732269600000', NOW)).toBe(1732269600000);
    expect(parseTimeArg('2024-11-22T09:00:00Z', NOW)).toBe(NOW - 3_600_000);
    expect(parseTimeArg('now', NOW)).toBe(NOW);
    expect(parseTimeArg('-24h', NOW)).toBe(NOW - 86_400_000);
    expect(parseTimeArg('-30m', NOW)).toBe(NOW - 1_800_000);
    expect(parseTimeArg('-7d', NOW)).toBe(NOW - 7 * 86_400_000);
  });

  it('refuses what is not a time', () => {
    for (const bad of ['yesterday', '24h', '-24x', '12', '2024-13-45']) expect(parseTimeArg(bad, NOW), bad).toBeUndefined();
  });

  it('picks a bucket width that gives a readable chart for 1 h, 24 h and 7 d', () => {
    expect(autoEveryMs(3_600_000)).toBe(30_000);
    expect(autoEveryMs(86_400_000)).toBe(600_000);
    expect(autoEveryMs(7 * 86_400_000)).toBe(3_600_000);
    expect(bucketCount(0, 3_600_000, 60_000)).toBe(60);
  });
});

describe('coalescing live readings', () => {
  const reading = (ts: number, metrics: Record<string, number>, device = 'shed-1-env'): Reading => ({
    site: 'huyang',
    zone: 'shed-1',
    kind: 'shed',
    device,
    ts,
    metrics,
  });

  it('sends a burst from one device as one merged reading per interval', () => {
    const timers: (() => void)[] = [];
    const flushed: Reading[][] = [];
    const c = createCoalescer<Reading>({
      intervalMs: 250,
      key: (r) => r.device,
      merge: mergeReadings,
      flush: (b) => flushed.push(b),
      setTimer: (fn) => timers.push(fn),
      clearTimer: () => {},
    });
    for (let i = 0; i < 50; i++) c.add(reading(NOW + i, { nh3: i }));
    c.add(reading(NOW + 10, { temperature: 21 }));
    c.add(reading(NOW, { humidity: 60 }, 'other'));
    expect(timers).toHaveLength(1);
    timers[0]();
    expect(flushed).toHaveLength(1);
    const [first, second] = flushed[0];
    expect(first).toMatchObject({ device: 'shed-1-env', ts: NOW + 49, metrics: { nh3: 49, temperature: 21 } });
    expect(second.device).toBe('other');
    expect(c.pending()).toBe(0);
  });

  it("sends a quiet device's reading at the next short tick, but holds a chatty device to one update per interval", () => {
    let clock = NOW;
    const timers: { fn: () => void; ms: number }[] = [];
    const flushed: Reading[][] = [];
    const c = createCoalescer<Reading>({
      intervalMs: 250,
      tickMs: 50,
      key: (r) => r.device,
      merge: mergeReadings,
      flush: (b) => flushed.push(b),
      now: () => clock,
      setTimer: (fn, ms) => timers.push({ fn, ms }),
      clearTimer: () => {},
    });
    const fire = (advanceMs: number) => {
      clock += advanceMs;
      timers.shift()!.fn();
    };
    c.add(reading(clock, { nh3: 1 }));
    expect(timers.map((t) => t.ms)).toEqual([50]); // waits one tick, not the whole interval
    fire(50);
    expect(flushed.map((b) => b.map((r) => r.metrics.nh3))).toEqual([[1]]);

    // the same device again 100 ms later: held until its interval is up, merged with what follows
    clock += 50;
    c.add(reading(clock, { nh3: 2 }));
    c.add(reading(clock + 1, { nh3: 3 }, 'other'));
    fire(50); // 100 ms after the first send: only the other device is due
    expect(flushed[1].map((r) => [r.device, r.metrics.nh3])).toEqual([['other', 3]]);
    c.add(reading(clock, { nh3: 4 }));
    while (timers.length && flushed.length < 3) fire(50);
    expect(clock - NOW).toBeGreaterThanOrEqual(300); // 250 ms after the first send, on a tick boundary
    expect(flushed[2].map((r) => [r.device, r.metrics.nh3])).toEqual([['shed-1-env', 4]]);
    expect(c.pending()).toBe(0);
  });

  it('keeps the newest value of a metric even when readings arrive out of order', () => {
    expect(mergeReadings(reading(NOW + 5, { nh3: 2 }), reading(NOW, { nh3: 1, co2: 400 })).metrics).toEqual({ nh3: 2, co2: 400 });
  });

  it('shows the sum of two rain reports that arrive within one 50 ms tick, and the newest level', () => {
    const timers: (() => void)[] = [];
    const flushed: Reading[][] = [];
    const c = createCoalescer<Reading>({
      intervalMs: 50,
      key: (r) => r.device,
      merge: mergeReadings,
      flush: (b) => flushed.push(b),
      setTimer: (fn) => timers.push(fn),
      clearTimer: () => {},
    });
    c.add(reading(NOW, { rain_mm: 6, temperature: 20 }, 'rain-1-gauge'));
    c.add(reading(NOW + 20, { rain_mm: 2.5, temperature: 21 }, 'rain-1-gauge'));
    c.add(reading(NOW + 10, { rain_mm: 0.5, temperature: 19 }, 'rain-1-gauge')); // late: counts in the sum, not as the level
    timers[0]();
    expect(flushed).toEqual([
      [{ site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'rain-1-gauge', ts: NOW + 20, metrics: { rain_mm: 9, temperature: 21 } }],
    ]);
  });
});

describe('sessions and failed-login limit', () => {
  it('ends a session after its lifetime and tells listeners', async () => {
    let now = NOW;
    const db = openAccessDb({});
    try {
      const otto = { name: 'otto', role: 'operator' as const, password: 'operator-password' };
      const sessions = createSessionStore({ db, findUser: (n) => (n === 'otto' ? otto : undefined) }, { ttlMs: 1000, now: () => now });
      const ended: string[] = [];
      sessions.onEnd((s, reason) => ended.push(`${s.user}:${reason}`));
      const { token } = await sessions.create(otto);
      expect(sessions.get(token)?.user).toBe('otto');
      now += 1000;
      expect(sessions.get(token)).toBeUndefined();
      expect(ended).toEqual(['otto:expired']);
    } finally {
      await db.close();
    }
  });

  it('ranks roles viewer < operator < admin', () => {
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('viewer', 'operator')).toBe(false);
    expect(roleAllows('operator', 'admin')).toBe(false);
  });

  it('blocks an address after max failures until the window passes; success clears the count', () => {
    let now = NOW;
    const limiter = createLoginLimiter({ max: 3, timeWindowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) limiter.failed('1.2.3.4');
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(60_000);
    expect(limiter.retryAfterMs('5.6.7.8')).toBe(0);
    now += 60_000;
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(0);
    limiter.failed('5.6.7.8');
    limiter.succeeded('5.6.7.8');
    limiter.failed('5.6.7.8');
    limiter.failed('5.6.7.8');
    expect(limiter.retryAfterMs('5.6.7.8')).toBe(0);
  });
});

const PIPE_A = { site: 'city', zone: 'pipe-a', kind: 'drain' as const, devices: [{ device: 'pipe-a-level' }] };

describe('site view helpers', () => {
  it('grades pipe fill blue below the first level, then by the rule levels', () => {
    const levels = fillLevels(testFarmConfig().rules, PIPE_A);
    expect(levels.map((l) => l.name)).toEqual(['yellow', 'orange', 'red']);
    expect([10, 55, 75, 90, undefined].map((f) => fillGrade(f, levels))).toEqual(['blue', 'yellow', 'orange', 'red', 'blue']);
  });

  it('falls back to 50 / 70 / 85 when no rule grades fill', () => {
    expect(fillLevels([], PIPE_A)).toEqual(DEFAULT_FILL_LEVELS);
  });

  it('takes fill levels only from a rule scoped to this zone, also when it is scoped by device (as the rules engine scopes it)', () => {
    const graded = (device: string) =>
      testFarmConfig({
        rules: [
          { id: 'one-pipe', scope: { device }, when: { metric: 'fill', levels: [{ name: 'red', above: 40 }] }, actions: [{ alert: { severity: 'critical' } }] },
        ],
      }).rules;
    expect(fillLevels(graded('pipe-a-level'), PIPE_A)).toEqual([{ name: 'red', above: 40 }]);
    expect(fillLevels(graded('pipe-b-level'), PIPE_A)).toEqual(DEFAULT_FILL_LEVELS);
  });

  it('takes the worst severity of the active alerts', () => {
    expect(worstSeverity([{ severity: 'info' }, { severity: 'critical' }, { severity: 'warning' }])).toBe('critical');
    expect(worstSeverity([])).toBeUndefined();
  });
});

describe('drainage helpers', () => {
  const b = (min: number, count = 6) => ({ ts: 0, mean: min + 1, min, max: min + 2, count });

  it('totals rainfall as mean × count over the buckets', () => {
    expect(
      bucketsTotal([
        { ts: 0, mean: 0.5, min: 0, max: 1, count: 4 },
        { ts: 1, mean: 1, min: 1, max: 1, count: 2 },
      ]),
    ).toBe(4);
  });

  it('finds the lowest fill only when the data cover the window', () => {
    expect(sustainedMinimum([b(60), b(55), b(70), b(58), b(66), b(61)], 6)).toBe(55);
    expect(sustainedMinimum([b(60), b(55)], 6)).toBeUndefined();
  });
});

describe('error answers', () => {
  it('maps the rules engine errors to 404, 409 and 400', () => {
    expect(toErrorReply(new ActuatorError('NOT_FOUND', 'no device x')).status).toBe(404);
    expect(toErrorReply(new ActuatorError('NOT_ACTUATOR', 'x is a sensor')).status).toBe(409);
    expect(toErrorReply(new ActuatorError('BAD_COMMAND', 'set needs a value 0-100'))).toEqual({
      status: 400,
      body: { error: 'VALIDATION', message: 'set needs a value 0-100' },
    });
  });

  it('never leaks the text of an unexpected error', () => {
    expect(toErrorReply(new Error('ECONNREFUSED 10.0.0.5:8086 token=abc'))).toEqual({
      status: 500,
      body: { error: 'INTERNAL', message: expect.not.stringMatching(/token/) },
    });
  });
});

describe('JSON body depth', () => {
  it('counts nesting without recursion, so a body thousands of levels deep is measured, not a stack overflow', () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(jsonDepth(deep, MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH + 1);
    expect(jsonDepth(deep)).toBe(100_000);
  });
});

describe('user directory', () => {
  const config = testFarmConfig();

  it('a new user needs a password; an existing one keeps theirs when only the role changes', async () => {
    const users = createUserDirectory(config.users, { logger: silentLogger() });
    await expect(users.put('newbie', { role: 'viewer' })).rejects.toThrow(/needs a password/);
    expect(await users.put('otto', { role: 'admin' })).toEqual({ user: { name: 'otto', role: 'admin', source: 'api' }, created: false });
    const otto = users.find('otto')!;
    expect(otto.passwordHash).toMatch(/^scrypt\$/);
    expect(await verifySecret(PASSWORDS.operator, otto.passwordHash!)).toBe(true);
  });

  it('a second dashboard process sharing the users file sees a change made by the first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'farm-users-'));
    try {
      const file = join(dir, 'users.json');
      const a = createUserDirectory(config.users, { file, logger: silentLogger() });
      const b = createUserDirectory(config.users, { file, logger: silentLogger() });
      expect(b.find('nina')).toBeUndefined();
      await a.put('nina', { role: 'operator', password: 'nina-night-shift' });
      a.remove('vera');
      expect(b.find('nina')?.role).toBe('operator');
      expect(b.find('vera')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removing a user of the farm file hides them; adding them again brings them back', async () => {
    const users = createUserDirectory(config.users, { logger: silentLogger() });
    expect(users.remove('vera')).toBe(true);
    expect(users.remove('vera')).toBe(false);
    expect(users.find('vera')).toBeUndefined();
    expect(users.list().map((u) => u.name)).toEqual(['ada', 'otto']);
    await users.put('vera', { role: 'viewer', password: 'a-new-start-123' });
    expect(users.list().find((u) => u.name === 'vera')).toEqual({ name: 'vera', role: 'viewer', source: 'api' });
  });
});
