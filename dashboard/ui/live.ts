import { io, type Socket } from 'socket.io-client';
import type { Reading } from '../../core/domain.js';
import type {
  ClientToServerEvents,
  JoinAnswer,
  LiveActuator,
  LiveAlert,
  LiveCommand,
  LiveCommandOutcome,
  LiveDevices,
  LiveHeadCounts,
  ServerToClientEvents,
} from '../live-events.js';
import { applyActuator, applyAlert, applyCommand, applyCommandOutcome, applyDevices, applyHeadCounts, applyReadings, setConn } from './state.js';

/**
 * The live connection: authenticated by the session cookie, joined to the sites on screen, reconnecting by
 * itself (socket.io backs off) and showing its state. The server sends only the events of joined sites, so
 * whenever a site is joined (a new view, or again after a lost connection) the page fetches that site's
 * current state: nothing missed while it was not listening stays stale on screen.
 */
let socket: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;
let sites: string[] = [];
let joinedSites = new Set<string>();
let onJoined: (sites: string[]) => void = () => {};

export interface LiveCallbacks {
  /** The server refused or closed the connection because the session is gone: show the login. */
  sessionEnded(): void;
  /** These sites were just joined; their events before now were not received: fetch their state. */
  joined(sites: string[]): void;
}

function join(): void {
  const s = socket;
  s?.emit('join', { sites }, (answer: JoinAnswer) => {
    if (!answer.ok || s !== socket) return void (answer.ok || console.warn('join refused', answer));
    const fresh = (answer.sites ?? []).filter((site) => !joinedSites.has(site));
    joinedSites = new Set(answer.sites);
    if (fresh.length > 0) onJoined(fresh);
  });
}

export function connectLive(callbacks: LiveCallbacks): void {
  disconnectLive();
  setConn('connecting');
  onJoined = callbacks.joined;
  const s: Socket<ServerToClientEvents, ClientToServerEvents> = io({ withCredentials: true, reconnectionDelayMax: 5000 });
  socket = s;
  s.on('connect', () => {
    setConn('connected');
    joinedSites = new Set();
    join();
  });
  let ended = false;
  s.on('session-ended', () => (ended = true));
  s.on('disconnect', (reason) => {
    setConn('disconnected');
    if (reason !== 'io server disconnect') return; // socket.io reconnects by itself
    // The server closed it: because the session ended (it says so first), or because it is stopping (a
    // restart); then try again, as socket.io does not after a server-side disconnect.
    if (ended) callbacks.sessionEnded();
    else setTimeout(() => s === socket && s.connect(), 1000);
  });
  s.on('connect_error', (err) => {
    setConn('disconnected');
    if (err.message === 'UNAUTHENTICATED') callbacks.sessionEnded();
  });
  s.on('reading', (batch: Reading[]) => applyReadings(batch));
  s.on('device', (batch: LiveDevices) => applyDevices(batch));
  s.on('actuator', (event: LiveActuator) => applyActuator(event));
  s.on('command', (event: LiveCommand) => applyCommand(event));
  s.on('commandOutcome', (event: LiveCommandOutcome) => applyCommandOutcome(event));
  s.on('alert', (alert: LiveAlert) => applyAlert(alert));
  s.on('headCount', (batch: LiveHeadCounts) => applyHeadCounts(batch));
}

/** The sites the current view shows; the server then sends only their events. */
export function viewSites(next: string[]): void {
  const same = next.length === sites.length && next.every((s, i) => s === sites[i]);
  sites = [...next];
  if (!same && socket?.connected) join();
}

export function disconnectLive(): void {
  socket?.removeAllListeners();
  socket?.disconnect();
  socket = undefined;
}
