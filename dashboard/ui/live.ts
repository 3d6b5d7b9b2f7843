import { io, type Socket } from 'socket.io-client';
import type { Reading } from '../../core/domain.js';
import type { JoinAnswer, LiveActuator, LiveAlert, LiveCommand, LiveDevices } from '../live-events.js';
import { applyActuator, applyAlert, applyCommand, applyDevices, applyReadings, setConn } from './state.js';

/**
 * The live connection: authenticated by the session cookie, joined to the sites on screen, reconnecting by
 * itself (socket.io backs off) and showing its state. After a reconnect the page reloads its data, since
 * events sent while it was away are lost.
 */
let socket: Socket | undefined;
let sites: string[] = [];

export interface LiveCallbacks {
  /** The server refused or closed the connection because the session is gone: show the login. */
  sessionEnded(): void;
  /** Connected again after a loss: fetch what was missed. */
  resync(): void;
}

function join(): void {
  socket?.emit('join', { sites }, (answer: JoinAnswer) => {
    if (!answer.ok) console.warn('join refused', answer);
  });
}

export function connectLive(callbacks: LiveCallbacks): void {
  disconnectLive();
  setConn('connecting');
  let connectedBefore = false;
  const s = io({ withCredentials: true, reconnectionDelayMax: 5000 });
  socket = s;
  s.on('connect', () => {
    setConn('connected');
    join();
    if (connectedBefore) callbacks.resync();
    connectedBefore = true;
  });
  s.on('disconnect', (reason) => {
    setConn('disconnected');
    if (reason === 'io server disconnect') callbacks.sessionEnded();
  });
  s.on('connect_error', (err) => {
    setConn('disconnected');
    if (err.message === 'UNAUTHENTICATED') callbacks.sessionEnded();
  });
  s.on('reading', (batch: Reading[]) => applyReadings(batch));
  s.on('device', (batch: LiveDevices) => applyDevices(batch));
  s.on('actuator', (event: LiveActuator) => applyActuator(event));
  s.on('command', (event: LiveCommand) => applyCommand(event));
  s.on('alert', (alert: LiveAlert) => applyAlert(alert));
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
