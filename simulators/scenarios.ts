import type { FaultSpec } from './models/faults.js';
import type { ShedParams, ShedStart } from './models/shed.js';
import type { FieldParams } from './models/field.js';
import type { WeatherProfile } from './models/weather.js';
import { WEATHER } from './models/weather.js';
import { type RainSeries, cloudburst, dailyShower, dry, inFaHangzhou, showers } from './models/rainfall.js';

/** The named situations the simulator can play: weather, starting conditions, actuators and faults. */
export const SCENARIO_NAMES = ['normal-day', 'summer-week', 'heat-wave', 'ammonia-buildup', 'typhoon', 'cloudburst', 'blocked-pipe', 'sensor-faults'] as const;
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
  /** One pipe (chosen by the seed) silts up during the run, after the days its dry-weather level is learned on. */
  silting?: { startSec: number; rampSec: number; blockage: number };
  faults(devices: DeviceList): FaultSpec[];
  /**
   * When the scenario happened, or a fitting local time for it (ISO 8601 with offset): the default start of a
   * run in simulated time (`--report`), so a replayed storm falls on its own dates and local hours.
   */
  start?: string;
}

export class UnknownScenarioError extends Error {
  readonly code = 'SIM_UNKNOWN_SCENARIO';
  constructor(name: string) {
    super(`unknown scenario "${name}": choose one of ${SCENARIO_NAMES.join(', ')}`);
    this.name = 'UnknownScenarioError';
  }
}

const HOUR = 3600;
const DAY = 24 * HOUR;
const summerShed: ShedSetup = { fan: { state: 'off' }, spray: { state: 'off' }, shutter: { state: 'on', value: 30 } };
const noFaults = (): FaultSpec[] => [];

const SCENARIOS: Record<ScenarioName, Scenario> = {
  'normal-day': {
    name: 'normal-day',
    description: 'A mild, humid East-China day: the full sheds need their fans in the afternoon, fields drying slowly, one shower, pipes at dry-weather flow.',
    durationSec: 24 * HOUR,
    weather: WEATHER.mild,
    rain: () => dailyShower({ startSec: 6 * HOUR, returnPeriodYears: 0.25, durationMin: 30 }),
    shed: () => summerShed,
    field: () => ({ start: { soilMoisturePct: 27 } }),
    siltOnePipe: false,
    faults: noFaults,
    start: '2021-05-25T00:00:00+08:00',
  },
  'summer-week': {
    name: 'summer-week',
    description:
      'A typical Hangzhou July week (CMA 1981-2010 normals: about 33.5 °C by day, 25.5 °C at night, humid): sheds warm day and night, two afternoon thundershowers (≈ 15 and ≈ 24 mm), pipes otherwise at dry-weather flow.',
    durationSec: 7 * DAY,
    weather: WEATHER.summer,
    rain: () =>
      showers([
        { startSec: 1 * DAY + 15 * HOUR, returnPeriodYears: 0.2, durationMin: 30 },
        { startSec: 4 * DAY + 16 * HOUR, returnPeriodYears: 0.33, durationMin: 40 },
      ]),
    shed: () => ({ ...summerShed, shutter: { state: 'on', value: 60 }, start: { temperatureC: 28, humidityPct: 80 } }),
    field: () => ({ start: { soilMoisturePct: 26 } }),
    siltOnePipe: false,
    faults: noFaults,
    start: '2021-07-05T00:00:00+08:00',
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
        ? {
            fan: { state: 'off' },
            spray: { state: 'off' },
            shutter: { state: 'off' },
            params: { nh3Factor: 1.5, h2sFactor: 1.5 },
            start: { nh3Ppm: 14, h2sPpm: 1, co2Ppm: 2500, daysSinceCleaning: 45 },
          }
        : summerShed,
    field: () => ({}),
    siltOnePipe: false,
    faults: noFaults,
  },
  typhoon: {
    name: 'typhoon',
    description:
      'Typhoon In-Fa as Hangzhou measured it, 23-26 July 2021: ≈ 255 mm over three and a half days, hours mostly under 10 mm, one burst with a 24 mm hour (rainstorm signals blue, yellow, orange; a heavy-rainstorm day), then a dry day and a half in which every rain grade clears.',
    // The rain ends on 26 July 18:00; the 24 h total falls back under its grades a day later.
    durationSec: 4.5 * DAY + 6 * HOUR,
    weather: WEATHER.typhoon,
    rain: (seed) => inFaHangzhou({ seed }),
    start: '2021-07-23T00:00:00+08:00',
    shed: () => ({ fan: { state: 'off' }, spray: { state: 'off' }, shutter: { state: 'on', value: 10 }, start: { temperatureC: 27, humidityPct: 90 } }),
    field: () => ({ start: { soilMoisturePct: 30 } }),
    siltOnePipe: false,
    faults: noFaults,
  },
  cloudburst: {
    name: 'cloudburst',
    description:
      'The cloudburst of 30 July 2021: a hot afternoon, then 95.3 mm in one hour (Beigaofeng, Hangzhou), ≈ 110 mm in all: every rain grade up to red at once, storm pipes surcharge, the sump fills; then a day in which it all clears.',
    durationSec: 2 * DAY,
    weather: WEATHER.summer,
    rain: () => cloudburst({ startSec: 15.5 * HOUR }),
    shed: () => ({ ...summerShed, shutter: { state: 'on', value: 60 }, start: { temperatureC: 29, humidityPct: 75 } }),
    field: () => ({ start: { soilMoisturePct: 24 } }),
    siltOnePipe: false,
    faults: noFaults,
    start: '2021-07-30T00:00:00+08:00',
  },
  'blocked-pipe': {
    name: 'blocked-pipe',
    description:
      "Eleven days: nine clean ones (one afternoon shower) from which every pipe's dry-weather level by hour of day is learned, then one pipe (chosen by the seed) silts up over six hours on the tenth morning and holds water; the others carry on as before.",
    durationSec: 11 * DAY,
    weather: WEATHER.mild,
    rain: () => showers([{ startSec: 3 * DAY + 15 * HOUR, returnPeriodYears: 0.25, durationMin: 30 }]),
    shed: () => summerShed,
    field: () => ({ start: { soilMoisturePct: 24 } }),
    siltOnePipe: false,
    // A pipe learned by day 9 on 7 dry days for every hour (the first day is watched, not learned; the shower takes a day out).
    silting: { startSec: 9 * DAY + 9 * HOUR, rampSec: 6 * HOUR, blockage: 0.6 },
    faults: noFaults,
    start: '2021-10-04T00:00:00+08:00',
  },
  'sensor-faults': {
    name: 'sensor-faults',
    description:
      'A normal day with broken devices: stuck, spiking, silent, out-of-range and malformed sensors, a store-and-forward batch, an actuator that never acknowledges.',
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
