import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../core/domain.js';
import { buildTestDashboard, type TestDashboard } from './fixtures.js';

/** The live channel against a real listening server with the socket.io client a browser uses. */
let t: TestDashboard;
let base: string;
const clients: Socket[] = [];

beforeAll(async () => {
  t = await buildTestDashboard({ coalesceMs: 100 });
  const { port } = await t.dashboard.start();
  base = `http://127.0.0.1:${port}`;
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => t.close());

function client(auth?: { token?: string; cookie?: string }): Socket {
  const socket = connect(base, {
    transports: ['websocket'],
    reconnection: false,
    auth: auth?.token ? { token: auth.token } : {},
    extraHeaders: auth?.cookie ? { cookie: auth.cookie } : undefined,
  });
  clients.push(socket);
  return socket;
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

async function joined(socket: Socket, sites: string[]): Promise<unknown> {
  await connected(socket);
  return socket.emitWithAck('join', { sites });
}

/** What arrives of one event, in order; `until` resolves once what arrived satisfies `done` (no fixed waits). */
function collect<T>(socket: Socket, event: string): T[] & { until(done: (seen: T[]) => boolean, what: string): Promise<void> } {
  const waiting: (() => void)[] = [];
  const seen = Object.assign([] as T[], {
    until(done: (seen: T[]) => boolean, what: string) {
      return new Promise<void>((resolve, reject) => {
        if (done(seen)) return resolve();
        const timer = setTimeout(() => reject(new Error(`no ${what} (${event} so far: ${JSON.stringify(seen).slice(0, 500)})`)), 10_000);
        waiting.push(() => {
          if (!done(seen)) return false;
          clearTimeout(timer);
          resolve();
          return true;
        });
      });
    },
  });
  socket.on(event, (payload: T) => {
    seen.push(payload);
    for (let i = waiting.length - 1; i >= 0; i--) if ((waiting[i] as () => boolean)()) waiting.splice(i, 1);
  });
  return seen;
}

const reading = (site: string, device: string, metrics: Record<string, number>, ts = Date.now()): Reading => {
  const d = t.deps.farm.device(device)!;
  return { site, zone: d.zone, kind: d.kind, device, ts, metrics };
};
const hasReading = (device: string, metric: string, value: number) => (batches: Reading[][]) =>
  batches.flat().some((r) => r.device === device && r.metrics[metric] === value);

describe('live connection', () => {
  it('is refused without a session', async () => {
    await expect(connected(client())).rejects.toThrow('UNAUTHENTICATED');
    await expect(connected(client({ token: 'made-up' }))).rejects.toThrow('UNAUTHENTICATED');
  });

  it('accepts the session cookie as well as a handshake token', async () => {
    await connected(client({ cookie: `farm_session=${await t.token('viewer')}` }));
    await connected(client({ token: await t.token('viewer') }));
  });

  it('a client receives only the sites it joined', async () => {
    const socket = client({ token: await t.token('viewer') });
    expect(await joined(socket, ['huyang', 'atlantis'])).toEqual({ ok: true, sites: ['huyang'], unknown: ['atlantis'] });
    const readings = collect<Reading[]>(socket, 'reading');
    const alerts = collect<{ site: string }>(socket, 'alert');
    t.bus.emit('reading', reading('city', 'pipe-a-level', { fill: 40 }));
    t.bus.emit('reading', reading('huyang', 'shed-1-env', { nh3: 14 }));
    t.rules.raise({ site: 'city', zone: 'pipe-a', message: 'not for this client' });
    t.rules.raise({ site: 'huyang', zone: 'shed-1', message: 'for this client' });
    await alerts.until((a) => a.length > 0, 'alert of huyang');
    await readings.until(hasReading('shed-1-env', 'nh3', 14), 'reading of huyang');
    // A later marker of the joined site: whatever of city was sent would have come before it.
    t.bus.emit('reading', reading('huyang', 'shed-1-env', { nh3: 99 }, Date.now() + 1));
    await readings.until(hasReading('shed-1-env', 'nh3', 99), 'the marker reading');
    expect(readings.flat().map((r) => r.device)).toEqual(['shed-1-env', 'shed-1-env']);
    expect(alerts.map((a) => a.site)).toEqual(['huyang']);

    await socket.emitWithAck('join', { sites: ['city'] });
    t.bus.emit('reading', reading('huyang', 'shed-1-env', { nh3: 15 }, Date.now() + 2));
    t.bus.emit('reading', reading('city', 'pipe-a-level', { fill: 41 }));
    await readings.until(hasReading('pipe-a-level', 'fill', 41), 'reading of city after joining it');
    t.bus.emit('reading', reading('city', 'pipe-a-level', { fill: 42 }, Date.now() + 3));
    await readings.until(hasReading('pipe-a-level', 'fill', 42), 'the marker reading of city');
    expect(readings.flat().map((r) => r.device)).toEqual(['shed-1-env', 'shed-1-env', 'pipe-a-level', 'pipe-a-level']);
  });

  it('a burst of readings reaches the browser merged, not one message each', async () => {
    const socket = client({ token: await t.token('viewer') });
    await joined(socket, ['huyang']);
    const batches = collect<Reading[]>(socket, 'reading');
    const start = Date.now();
    for (let i = 0; i < 200; i++) t.bus.emit('reading', reading('huyang', 'shed-1-env', { nh3: i, temperature: 20 + i / 100 }, start + i));
    await batches.until(hasReading('shed-1-env', 'nh3', 199), 'the last reading of the burst');
    const burst = batches.length;
    const last = batches.flat().at(-1)!;
    // A marker in a later batch: nothing of the burst arrives after it.
    t.bus.emit('reading', reading('huyang', 'shed-1-env', { nh3: 500 }, start + 1000));
    await batches.until(hasReading('shed-1-env', 'nh3', 500), 'the marker reading');
    expect(burst).toBeLessThanOrEqual(2);
    expect(batches).toHaveLength(burst + 1);
    expect(last.metrics).toEqual({ nh3: 199, temperature: 21.99 });
  });

  it('relays device status, actuator state and mode, commands and alerts of joined sites', async () => {
    const socket = client({ token: await t.token('operator') });
    await joined(socket, ['huyang']);
    const devices = collect<unknown[]>(socket, 'device');
    const actuators = collect<{ change: string }>(socket, 'actuator');
    const commands = collect<{ command: { action: string } }>(socket, 'command');
    t.bus.emit('status', { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', status: 'offline', ts: Date.now() });
    t.rules.command('shed-1-fan', 'on', undefined, 'otto');
    t.rules.setMode('shed-1-spray', 'manual', undefined, 'otto');
    await commands.until((c) => c.length > 0, 'the command');
    await actuators.until((a) => a.some((e) => e.change === 'mode') && a.some((e) => e.change === 'state'), 'the mode and the acknowledged state');
    // The marker: a later status change of the same device; everything above was sent before it.
    t.bus.emit('status', { site: 'huyang', zone: 'shed-1', kind: 'shed', device: 'shed-1-env', status: 'online', ts: Date.now() + 1 });
    await devices.until((d) => d.flat().some((s) => (s as { status: string }).status === 'online'), 'the marker status');
    expect(devices.flat()).toEqual([
      expect.objectContaining({ device: 'shed-1-env', status: 'offline' }),
      expect.objectContaining({ device: 'shed-1-env', status: 'online' }),
    ]);
    expect(commands.map((c) => c.command.action)).toEqual(['on']);
    expect(actuators).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ change: 'mode', device: 'shed-1-spray', mode: 'manual' }),
        expect.objectContaining({ change: 'state', device: 'shed-1-fan', state: 'on', ack: expect.stringMatching(/^cmd-/) }),
      ]),
    );
  });

  it('is closed when its session logs out', async () => {
    const fresh = await buildTestDashboard();
    const { port } = await fresh.dashboard.start();
    try {
      const token = await fresh.token('viewer');
      const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, auth: { token } });
      clients.push(socket);
      await connected(socket);
      const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      await fresh.dashboard.app.inject({ method: 'POST', url: '/api/logout', headers: { authorization: `Bearer ${token}` } });
      expect(await closed).toBe('io server disconnect');
    } finally {
      await fresh.close();
    }
  });

  it('is closed when an admin changes the user (a new role takes effect at once)', async () => {
    const fresh = await buildTestDashboard();
    const { port } = await fresh.dashboard.start();
    try {
      const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, auth: { token: await fresh.token('operator') } });
      clients.push(socket);
      await connected(socket);
      const ended = new Promise<{ reason: string }>((resolve) => socket.once('session-ended', resolve));
      const res = await fresh.dashboard.app.inject({ method: 'PUT', url: '/api/users/otto', payload: { role: 'viewer' }, headers: await fresh.auth('admin') });
      expect(res.statusCode).toBe(200);
      expect(await ended).toEqual({ reason: 'user-changed' });
    } finally {
      await fresh.close();
    }
  });

  it('ignores a malformed join and says why', async () => {
    const socket = client({ token: await t.token('viewer') });
    await connected(socket);
    expect(await socket.emitWithAck('join', 'huyang')).toMatchObject({ ok: false, error: 'VALIDATION' });
  });
});

describe('live connection from another web site', () => {
  it('is refused when the browser says it comes from a foreign origin', async () => {
    const socket = connect(base, {
      transports: ['websocket'],
      reconnection: false,
      auth: { token: await t.token('viewer') },
      extraHeaders: { origin: 'https://evil.example' },
    });
    clients.push(socket);
    await expect(connected(socket)).rejects.toThrow();
    const same = connect(base, { transports: ['websocket'], reconnection: false, auth: { token: await t.token('viewer') }, extraHeaders: { origin: base } });
    clients.push(same);
    await connected(same);
  });
});
