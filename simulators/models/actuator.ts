import type { ActuatorType, Command, CommandAction } from '../../core/domain.js';
import { clamp } from './units.js';

/** What a simulated actuator is doing; the level (0–100 %) is what the zone model feels. */
export interface ActuatorSimState {
  type: ActuatorType;
  state: 'on' | 'off';
  value: number;
}

const ACTIONS: readonly CommandAction[] = ['on', 'off', 'set'];

/** Reads a command payload (SPEC "Command"); anything else is undefined so the device ignores it. */
export function parseCommand(raw: unknown): Command | undefined {
  let data = raw;
  if (typeof raw === 'string' || raw instanceof Uint8Array) {
    try {
      data = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
    } catch {
      return undefined;
    }
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const c = data as Record<string, unknown>;
  if (typeof c.id !== 'string' || c.id.length === 0 || !ACTIONS.includes(c.action as CommandAction)) return undefined;
  if (c.value !== undefined && (typeof c.value !== 'number' || !Number.isFinite(c.value))) return undefined;
  if (c.action === 'set' && c.value === undefined) return undefined;
  return {
    id: c.id,
    action: c.action as CommandAction,
    value: c.value,
    reason: typeof c.reason === 'string' ? c.reason : '',
    ts: typeof c.ts === 'number' ? c.ts : 0,
  };
}

/** `on` without a value resumes the last level (or full); `set 0` switches off; `off` stops and closes. */
export function applyCommand(s: ActuatorSimState, cmd: Command): ActuatorSimState {
  switch (cmd.action) {
    case 'on':
      return { ...s, state: 'on', value: clamp(cmd.value ?? (s.value > 0 ? s.value : 100), 0, 100) };
    case 'off':
      return { ...s, state: 'off', value: 0 };
    case 'set': {
      const value = clamp(cmd.value ?? 0, 0, 100);
      return { ...s, state: value > 0 ? 'on' : 'off', value };
    }
  }
}

export function levelPct(s: ActuatorSimState | undefined): number {
  return s && s.state === 'on' ? s.value : 0;
}

export function initialActuator(type: ActuatorType, start?: { state: 'on' | 'off'; value?: number }): ActuatorSimState {
  if (!start || start.state === 'off') return { type, state: 'off', value: 0 };
  return { type, state: 'on', value: clamp(start.value ?? 100, 0, 100) };
}

/** The state payload an actuator publishes (SPEC "State"), with `ack` when it answers a command. */
export function statePayload(s: ActuatorSimState, ts: number, ack?: string): Record<string, unknown> {
  return ack === undefined ? { state: s.state, value: s.value, ts } : { state: s.state, value: s.value, ack, ts };
}
