import type { ZoneKind } from '../core/domain.js';

/**
 * Where a rule applies (SPEC rule `scope`: any of site, zone, kind, device; omitted = everywhere). The rules
 * engine and the dashboard (fill grades, which rules a site-limited user sees) both ask this one module.
 */
export interface RuleScope {
  site?: string;
  zone?: string;
  kind?: ZoneKind;
  device?: string;
}

export interface ScopeRef {
  site: string;
  zone: string;
  kind: ZoneKind;
  /** Absent for a zone-level instance (`per: zone`), which a device-scoped rule does not narrow. */
  device?: string;
}

export function scopeCovers(scope: RuleScope, ref: ScopeRef): boolean {
  return (!scope.site || scope.site === ref.site) && (!scope.zone || scope.zone === ref.zone) && (!scope.kind || scope.kind === ref.kind) && (!scope.device || !ref.device || scope.device === ref.device);
}

/** Whether the rule applies to anything in a zone: a device-scoped rule only to the zone that holds the device. */
export function scopeCoversZone(scope: RuleScope, zone: Omit<ScopeRef, 'device'> & { devices: readonly { device: string }[] }): boolean {
  return scopeCovers(scope, zone) && (!scope.device || zone.devices.some((d) => d.device === scope.device));
}
