import { METRICS } from '../../core/metrics-catalog.js';
import type { IndexedZone } from '../../core/farm-index.js';
import type { LocalText } from '../../core/local-text.js';

/**
 * The stored metrics of a zone's sensors: what each declares in the farm file, else every canonical metric of
 * the zone's kind (what validation would accept from it). A share link may show these.
 */
export function zoneSensorMetrics(zone: Pick<IndexedZone, 'kind' | 'devices'>): { device: string; name?: LocalText; metrics: string[] }[] {
  const kindMetrics = Object.entries(METRICS)
    .filter(([, spec]) => spec.kinds.includes(zone.kind))
    .map(([name]) => name);
  return zone.devices
    .filter((d) => d.role === 'sensor')
    .map((d) => ({ device: d.device, name: d.config.name, metrics: d.config.metrics ? [...d.config.metrics] : kindMetrics }));
}
