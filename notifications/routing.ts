import type { AlertEvent, ZoneKind } from '../core/domain.js';
import type { NotificationRouteT } from './schema.js';

/**
 * Which `notifications` routes an alert takes (pure). Every field a route's `match` names must fit the alert;
 * every route that fits applies (an alert may go to a group chat by one route and to the duty phone by another).
 */
export function routeMatches(route: NotificationRouteT, alert: Pick<AlertEvent, 'site' | 'zone' | 'rule' | 'severity'>, kind: ZoneKind | undefined): boolean {
  const m = route.match;
  return (
    (!m.site || m.site.includes(alert.site)) &&
    (!m.zone || m.zone.includes(alert.zone)) &&
    (!m.kind || (kind !== undefined && m.kind.includes(kind))) &&
    (!m.rule || m.rule.includes(alert.rule)) &&
    (!m.severity || m.severity.includes(alert.severity))
  );
}

export function matchingRoutes(
  routes: readonly NotificationRouteT[],
  alert: Pick<AlertEvent, 'site' | 'zone' | 'rule' | 'severity'>,
  kind: ZoneKind | undefined,
): number[] {
  return routes.flatMap((r, i) => (routeMatches(r, alert, kind) ? [i] : []));
}
