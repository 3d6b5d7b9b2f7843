import type { FarmBus } from '../../core/events.js';
import type { FarmMetrics } from '../../core/observability.js';
import { reasonForm } from '../../rules/holders.js';

/** Rule evaluations, firings, alerts and commands on /metrics, counted from the events the rules engine sees and emits. */
export function countRuleEvents(bus: FarmBus, metrics: FarmMetrics): void {
  bus.on('reading', () => metrics.ruleEvaluations.inc());
  bus.on('alert', (a) => {
    metrics.alerts.inc({ state: a.state, severity: a.severity });
    if (a.state === 'raised') metrics.ruleFirings.inc({ rule: a.rule });
  });
  bus.on('command', (c) => metrics.commands.inc({ reason: reasonForm(c.command.reason) }));
}
