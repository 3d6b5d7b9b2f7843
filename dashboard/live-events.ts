import type { CommandOutcomeEvent } from '../core/events.js';
import type { AlertEvent, Command, DeviceRef, DeviceStatus, HolderView, Reading } from '../core/domain.js';

/** Payloads of the socket.io events the dashboard pushes (see socket.ts); shared by server and page. */
export type LiveReadings = Reading[];
export type LiveDevices = (DeviceRef & { status: DeviceStatus; ts: number })[];
export type LiveActuator =
  | (DeviceRef & { change: 'state'; state: 'on' | 'off'; value?: number; ack?: string; ts: number })
  | (DeviceRef & { change: 'mode'; mode: 'auto' | 'manual'; until?: number; by?: string; ts: number })
  /** Who holds it changed (rule fired or cleared, an operator's hold started or ended, fail-safe, floor). */
  | (DeviceRef & { change: 'holders'; holders: HolderView[]; ts: number });
export type LiveCommand = DeviceRef & { command: Command };
/** A command sent again (`retried`) or given up on (`failed`: the actuator is not responding). */
export type LiveCommandOutcome = CommandOutcomeEvent;
export type LiveAlert = AlertEvent;
/** A zone's head count changed (batched: per zone the newest in each 50 ms tick). */
export type LiveHeadCounts = { site: string; zone: string; headCount: number; out: number; ts: number }[];
export interface JoinAnswer {
  ok: boolean;
  sites?: string[];
  unknown?: string[];
  error?: string;
  message?: string;
}

/** What a page asks for: the sites it shows (socket.ts validates it with zod, JoinPayload). */
export interface JoinRequest {
  sites: string[];
}

/**
 * The socket.io events the dashboard pushes, by name: the server (socket.ts) and the page (ui/live.ts) are typed
 * by this one map, so an event renamed or reshaped on one side does not compile on the other.
 */
export interface ServerToClientEvents {
  reading: (batch: LiveReadings) => void;
  device: (batch: LiveDevices) => void;
  actuator: (event: LiveActuator) => void;
  command: (event: LiveCommand) => void;
  /** A command sent again or given up on (issue 22: the card says "try 2 of 3", then "not responding"). */
  commandOutcome: (event: LiveCommandOutcome) => void;
  alert: (alert: LiveAlert) => void;
  headCount: (batch: LiveHeadCounts) => void;
  /** The session was logged out, revoked or expired; the server disconnects right after. */
  'session-ended': (info: { reason: string }) => void;
}

/** What a page sends: the sites it views, answered through the acknowledgement. */
export interface ClientToServerEvents {
  join: (request: JoinRequest, answer: (answer: JoinAnswer) => void) => void;
}
