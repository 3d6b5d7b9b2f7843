import type { ZoneKind } from '../core/domain.js';

/**
 * Where a rule applies (SPEC rule `scope`: any of site, zone, kind, device; omitted = everywhere; and, beyond the
 * SPEC, `attributes`: zones whose attributes have these values). The rules engine and the dashboard (fill grades,
 * which rules a site-limited user sees) both ask this one module.
 */
export type Attributes = Record<string, string | number | boolean>;

export interface RuleScope {
  site?: string;
  zone?: string;
  kind?: ZoneKind;
  device?: string;
  attributes?: Attributes;
}

/** `scope.attributes` against a zone's attributes: every named attribute has that value. */
export function attributesMatch(wanted: Attributes | undefined, attributes: Attributes | undefined): boolean {
  if (!wanted) return true;
  return Object.entries(wanted).every(([k, v]) => attributes?.[k] === v);
}

export interface ScopeRef {
  site: string;
  zone: string;
  kind: ZoneKind;
  /** Absent for a zone-level instance (`per: zone`), which a device-scoped rule does not narrow. */
  device?: string;
}

export function scopeCovers(scope: RuleScope, ref: ScopeRef): boolean {
  return (
    (!scope.site || scope.site === ref.site) &&
    (!scope.zone || scope.zone === ref.zone) &&
    (!scope.kind || scope.kind === ref.kind) &&
    (!scope.device || !ref.device || scope.device === ref.device)
  );
}

/**
 * Whether the rule applies to anything in a zone: a device-scoped rule only to the zone that holds the device, a
 * rule with `attributes` only to zones that have them.
 */
export function scopeCoversZone(
  scope: RuleScope,
  zone: Omit<ScopeRef, 'device'> & { devices: readonly { device: string }[]; config?: { attributes?: Attributes } },
): boolean {
  return (
    scopeCovers(scope, zone) &&
    (!scope.device || zone.devices.some((d) => d.device === scope.device)) &&
    attributesMatch(scope.attributes, zone.config?.attributes)
  );
}
