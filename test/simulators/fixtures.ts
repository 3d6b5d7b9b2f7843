import { FarmConfig, type FarmConfigT } from '../../core/config/schema.js';

/** Small farm files for the simulator tests, built from the same schema the service validates. */
type Attrs = Record<string, string | number | boolean>;
type ZoneInput = { id: string; kind: 'shed' | 'field' | 'drain'; devices: object[]; attributes?: Attrs };

export const SECRET = 'test-secret-123';

export function shedZone(n: number, attributes?: Attrs): ZoneInput {
  return {
    id: `shed-${n}`,
    kind: 'shed',
    attributes,
    devices: [
      { id: `shed-${n}-env`, role: 'sensor', secret: SECRET, metrics: ['temperature', 'humidity', 'nh3', 'h2s', 'co2'] },
      { id: `shed-${n}-fan`, role: 'actuator', type: 'fan', secret: SECRET },
      { id: `shed-${n}-spray`, role: 'actuator', type: 'spray', secret: SECRET },
      { id: `shed-${n}-shutter`, role: 'actuator', type: 'shutter', secret: SECRET },
    ],
  };
}

export function fieldZone(n: number, attributes?: Attrs): ZoneInput {
  return {
    id: `field-${n}`,
    kind: 'field',
    attributes,
    devices: [
      { id: `field-${n}-soil`, role: 'sensor', secret: SECRET },
      { id: `field-${n}-valve`, role: 'actuator', type: 'valve', secret: SECRET },
    ],
  };
}

export function pipeZone(id: string, attributes?: Attrs): ZoneInput {
  return { id, kind: 'drain', attributes, devices: [{ id: `${id}-level`, role: 'sensor', secret: SECRET, metrics: ['water_level', 'fill', 'flow'] }] };
}

export function gaugeZone(id: string): ZoneInput {
  return { id, kind: 'drain', devices: [{ id: `${id}-rain`, role: 'sensor', secret: SECRET, metrics: ['rain_mm'] }] };
}

export function sumpZone(id: string): ZoneInput {
  return {
    id,
    kind: 'drain',
    devices: [
      { id: `${id}-level`, role: 'sensor', secret: SECRET, metrics: ['water_level', 'fill', 'flow'] },
      { id: `${id}-pump`, role: 'actuator', type: 'pump', secret: SECRET },
    ],
  };
}

export function farm(sites: Record<string, ZoneInput[]>): FarmConfigT {
  return FarmConfig.parse({ sites: Object.entries(sites).map(([id, zones]) => ({ id, zones })) });
}

/** A small farm like the demo: two sheds, two fields, a drainage network with gauges, a silted pipe and a sump. */
export function demoLikeFarm(): FarmConfigT {
  return farm({
    huyang: [shedZone(1, { head_count: 200 }), shedZone(2)],
    tianmu: [fieldZone(1), fieldZone(2)],
    'xihu-drain': [
      gaugeZone('gauge-1'),
      gaugeZone('gauge-2'),
      pipeZone('pipe-a', { diameter_mm: 800 }),
      pipeZone('pipe-b', { diameter_mm: 1000, upstream: 'pipe-a' }),
      pipeZone('pipe-c', { diameter_mm: 600, silted: true }),
      sumpZone('pump-station'),
    ],
  });
}

/** Epoch ms of a farm-local (UTC+8) time on a fixed day, so tests do not depend on when they run. */
export function localTime(hour: number, minute = 0): number {
  return Date.UTC(2024, 6, 20, hour - 8, minute);
}
