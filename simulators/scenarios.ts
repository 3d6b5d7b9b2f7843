import type { FaultSpec } from './models/faults.js';
import type { ShedParams, ShedStart } from './models/shed.js';
import type { FieldParams } from './models/field.js';
import type { WeatherProfile } from './models/weather.js';
import { WEATHER } from './models/weather.js';
import { type RainSeries, dailyShower, dry, typhoonSeries } from './models/rainfall.js';

/** The named situations the simulator can play: weather, starting conditions, actuators and faults. */
export const SCENARIO_NAMES = ['normal-day', 'heat-wave', 'ammonia-buildup', 'typhoon', 'blocked-pipe', 'sensor-faults'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ActuatorStart {
  state: 'on' | 'off';
  value?: number;
}

export interface ShedSetup {
  params?: Partial<ShedParams>;
  start?: ShedStart;
  fan?: ActuatorStart;
  spray?: ActuatorStart;
  shutter?: ActuatorStart;
}

export interface FieldSetup {
  params?: Partial<FieldParams>;
  start?: { soilMoisturePct?: number; soilTemperatureC?: number };
}

export interface DeviceList {
  sensors: string[];
  actuators: string[];
}

export interface Scenario {
  name: ScenarioName;
  description: string;
  /** How long the scenario plays by default, simulated seconds (undefined = until stopped). */
  durationSec: number;
  weather: WeatherProfile;
  rain(seed: number): RainSeries;
  /** Set-up of the i-th shed zone of the farm (in config order). */
  shed(index: number): ShedSetup;
  field(index: number): FieldSetup;
  /** Silt one pipe even if no zone says so (the config's `silted` attribute always applies). */
  siltOnePipe: boolean;
  faults(devices: DeviceList): FaultSpec[];
}

export class UnknownScenarioError extends Error {
  readonly code = 'SIM_UNKNOWN_SCENARIO';
  constructor(name: string) {
    super(`unknown scenario "${name}": choose one of ${SCENARIO_NAMES.join(', ')}`);
    this.name = 'UnknownScenarioError';
  }
}

const HOUR = 3600;
const summerShed: ShedSetup = { fan: { state: 'off' }, spray: { state: 'off' }, shutter: { state: 'on', value: 30 } };
const noFaults = (): FaultSpec[] => [];

const SCENARIOS: Record<ScenarioName, Scenario> = {
  'normal-day': {
    name: 'normal-day',
    description: 'A mild East-China day: sheds comfortable, fields drying slowly, one afternoon shower, pipes at dry-weather flow.',
    durationSec: 24 * HOUR,
    weather: WEATHER.mild,
    rain: () => dailyShower({ startSec: 6 * HOUR, returnPeriodYears: 0.25, durationMin: 30 }),
    shed: () => summerShed,
    field: () => ({ start: { soilMoisturePct: 27 } }),
    siltOnePipe: false,
    faults: noFaults,
  },
  'heat-wave': {
    name: 'heat-wave',
    description: 'Days near 40 °C with nights near 30 °C: shed THI climbs into extreme heat stress unless fans run; fields dry fast.',
    durationSec: 24 * HOUR,
    weather: WEATHER['heat-wave'],
    rain: () => dry,
    shed: () => ({ ...summerShed, shutter: { state: 'on', value: 60 }, start: { temperatureC: 33, humidityPct: 55 } }),
    field: () => ({ start: { soilMoisturePct: 22 } }),
    siltOnePipe: false,
    faults: noFaults,
  },
  'ammonia-buildup': {
    name: 'ammonia-buildup',
    description: 'The first shed, closed up on six-week-old litter, builds NH3 past 20 ppm within minutes; spray and fans bring it below 15 ppm.',
    durationSec: 2 * HOUR,
    weather: WEATHER.cool,
    rain: () => dry,
    shed: (i) =>
      i === 0
        ? { fan: { state: 'off' }, spray: { state: 'off' }, shutter: { state: 'off' }, params: { nh3Factor: 1.5, h2sFactor: 1.5 }, start: { nh3Ppm: 14, h2sPpm: 1, co2Ppm: 2500, daysSinceCleaning: 45 } }
        : summerShed,
    field: () => ({}),
    siltOnePipe: false,
    faults: noFaults,
  },
  typhoon: {
    name: 'typhoon',
    description:
      'An In-Fa-like typhoon: 8 h of outer rain bands (blue rainstorm signal), a ramp (yellow, orange) into 3.5 h of 50–70 mm/h (red) that surcharges the pipes, then a dry day in which the pipes drain and the 12 h and 24 h rain totals fall back.',
    // Long enough for every demo rain rule to clear: the 24 h total falls below 50 mm about 23 h after the rain.
    durationSec: 38 * HOUR,
    weather: WEATHER.typhoon,
    rain: (seed) => typhoonSeries({ seed }),
    shed: () => ({ fan: { state: 'off' }, spray: { state: 'off' }, shutter: { state: 'on', value: 10 }, start: { temperatureC: 27, humidityPct: 90 } }),
    field: () => ({ start: { soilMoisturePct: 30 } }),
    siltOnePipe: false,
    faults: noFaults,
  },
  'blocked-pipe': {
    name: 'blocked-pipe',
    description: 'Dry weather; one pipe is silted and holds its level above 60 % for hours while the others run low.',
    durationSec: 12 * HOUR,
    weather: WEATHER.dry,
    rain: () => dry,
    shed: () => summerShed,
    field: () => ({ start: { soilMoisturePct: 24 } }),
    siltOnePipe: true,
    faults: noFaults,
  },
  'sensor-faults': {
    name: 'sensor-faults',
    description: 'A normal day with broken devices: stuck, spiking, silent, out-of-range and malformed sensors, a store-and-forward batch, an actuator that never acknowledges.',
    durationSec: 2 * HOUR,
    weather: WEATHER.mild,
    rain: () => dry,
    shed: () => summerShed,
    field: () => ({}),
    siltOnePipe: false,
    faults: ({ sensors, actuators }) => {
      const at = (i: number) => sensors[i % Math.max(1, sensors.length)];
      const planned: FaultSpec[] = [
        { kind: 'stuck', device: at(0), fromSec: 600 },
        { kind: 'spike', device: at(1), fromSec: 300 },
        { kind: 'dropout', device: at(2), fromSec: 900, toSec: 2700 },
        { kind: 'out-of-range', device: at(3), fromSec: 300 },
        { kind: 'malformed', device: at(4), fromSec: 300 },
        { kind: 'reconnect-batch', device: at(5), fromSec: 1200, toSec: 1800 },
      ];
      const plan = planned.filter((f) => f.device !== undefined);
      if (actuators.length > 0) plan.push({ kind: 'never-ack', device: actuators[0], fromSec: 0 });
      return plan;
    },
  },
};

export function getScenario(name: string): Scenario {
  if (!(SCENARIO_NAMES as readonly string[]).includes(name)) throw new UnknownScenarioError(name);
  return SCENARIOS[name as ScenarioName];
}
