import { scopeCoversZone } from '../../rules/scope.js';
import type { ZoneViewT } from '../schemas.js';
import { fillGrade, metricConditions } from '../site-view.js';
import { levelRank } from './alert-groups.js';
import { model } from './state.js';

/**
 * The grade a pipe or sump shows (blue / yellow / orange / red), as the rules judge it: the worst colour grade of the
 * device's active alerts (the demo farm grades pipes by water level against each pipe's own design), or of its fill
 * where a rule grades fill (`levels` on `fill`, ZoneView.fillLevels). So the gauge and the alert list never
 * disagree; without either, blue.
 */
const GRADES = new Set(['blue', 'yellow', 'orange', 'red']);

export function gradedByFill(site: string, zone: Pick<ZoneViewT, 'id' | 'kind' | 'attributes' | 'devices'>): boolean {
  const ref = { site, zone: zone.id, kind: zone.kind, devices: zone.devices.map((d) => ({ device: d.id })), config: { attributes: zone.attributes } };
  return model.rules.some(
    (r) => r.enabled !== false && scopeCoversZone(r.scope ?? {}, ref) && metricConditions(r.when).some((c) => c.metric === 'fill' && c.levels),
  );
}

/** An alert about the water (level or fill) without a colour grade (a sump's high-high level) takes its severity's. */
const BY_SEVERITY = { info: 'blue', warning: 'orange', critical: 'red' } as const;
const WATER = new Set(['water_level', 'fill']);

export function pipeGrade(site: string, zone: ZoneViewT, device: string | undefined, fillPercent: number | undefined): string {
  let grade = 'blue';
  for (const a of model.activeAlerts.values()) {
    if (a.site !== site || a.zone !== zone.id || (a.device && a.device !== device)) continue;
    const g = a.level && GRADES.has(a.level) ? a.level : a.metric && WATER.has(a.metric) ? BY_SEVERITY[a.severity] : undefined;
    if (g && levelRank(g) > levelRank(grade)) grade = g;
  }
  if (fillPercent !== undefined && gradedByFill(site, zone)) {
    const byFill = fillGrade(fillPercent, zone.fillLevels ?? []);
    if (levelRank(byFill) > levelRank(grade)) grade = byFill;
  }
  return grade;
}
