import { io, type Socket } from 'socket.io-client';
import { serveParent, toParent } from '../ipc.js';
import { newHistogram, pack, record, type Histogram } from '../stats.js';

/**
 * Dashboard viewers: `clients` socket.io connections, each logged in as its own session (POST /api/login, then
 * the bearer token in the handshake, as SPEC "HTTP and socket.io" describes), all joined to one site. While
 * measuring (between `measure` messages), every reading in every `reading` event is timed: receive time minus the reading's `ts`
 * (its publish time), i.e. how old the freshest value on a screen is when it arrives.
 */
const sockets: Socket[] = [];
let measuring = false;
let latency: Histogram = newHistogram();
let events = 0;
let readings = 0;

async function login(url: string, username: string, password: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (res.ok) return ((await res.json()) as { token: string }).token;
    if (attempt >= 5) throw new Error(`login as ${username} failed: ${res.status} ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function connectOne(url: string, token: string, site: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, timeout: 30_000 });
    socket.on('connect_error', (err) => reject(new Error(`socket.io connection refused: ${err.message}`)));
    socket.on('connect', () => {
      socket.emit('join', { sites: [site] }, (answer: { ok: boolean; message?: string }) =>
        answer?.ok ? resolve(socket) : reject(new Error(`join ${site} refused: ${answer?.message ?? 'no answer'}`)),
      );
    });
    socket.on('reading', (batch: { ts: number }[]) => {
      events++;
      readings += batch.length;
      if (!measuring) return;
      const now = Date.now();
      for (const r of batch) record(latency, Math.max(0, now - r.ts));
    });
  });
}

serveParent(async (msg) => {
  switch (msg.type) {
    case 'start': {
      const url = msg.url as string;
      const clients = msg.clients as number;
      let next = 0;
      const worker = async () => {
        while (next < clients) {
          next++;
          const token = await login(url, msg.username as string, msg.password as string);
          sockets.push(await connectOne(url, token, msg.site as string));
        }
      };
      const progress = setInterval(() => toParent({ type: 'connecting', connected: sockets.length }), 500);
      try {
        await Promise.all(Array.from({ length: Math.min(10, clients) }, worker));
      } finally {
        clearInterval(progress);
      }
      toParent({ type: 'started', connected: sockets.filter((s) => s.connected).length });
      return;
    }
    case 'measure': {
      // Answers with what was recorded since the previous `measure`, then starts afresh (on) or stops (off).
      toParent({ type: 'measured', latency: pack(latency), events, readings, connected: sockets.filter((s) => s.connected).length });
      measuring = Boolean(msg.on);
      latency = newHistogram();
      events = 0;
      readings = 0;
      return;
    }
    case 'close':
      for (const s of sockets) s.disconnect();
      return;
    default:
      return;
  }
});
toParent({ type: 'ready' });
