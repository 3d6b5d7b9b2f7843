/** Domain types shared by every component (SPEC "Identity", "MQTT topics"). */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const ZONE_KINDS = ['shed', 'field', 'drain'] as const;
export type ZoneKind = (typeof ZONE_KINDS)[number];

export const ACTUATOR_TYPES = ['fan', 'spray', 'shutter', 'pump', 'valve'] as const;
export type ActuatorType = (typeof ACTUATOR_TYPES)[number];

export type DeviceRole = 'sensor' | 'actuator';

/** Where a device sits: every reading and event carries it. */
export interface DeviceRef {
  site: string;
  zone: string;
  kind: ZoneKind;
  device: string;
}

/** One validated reading of one device at one instant: one or more metrics. */
export interface Reading extends DeviceRef {
  ts: number; // epoch ms
  metrics: Record<string, number>;
}

export type CommandAction = 'on' | 'off' | 'set';

export interface Command {
  id: string;
  action: CommandAction;
  value?: number;
  reason: string; // "rule:<id>" | "manual:<user>" | "failsafe:<...>"
  ts: number;
}

export interface ActuatorState {
  state: 'on' | 'off';
  value?: number;
  ack?: string;
  ts: number;
}

export type Severity = 'info' | 'warning' | 'critical';
export type AlertState = 'raised' | 'escalated' | 'acknowledged' | 'cleared';

export interface AlertEvent {
  id: string;
  rule: string;
  site: string;
  zone: string;
  device?: string;
  severity: Severity;
  level?: string;
  state: AlertState;
  value?: number;
  message: string;
  ts: number;
  by?: string; // who acknowledged
}

export type DeviceStatus = 'online' | 'offline';
