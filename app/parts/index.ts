import { COMPONENTS, type Component } from '../../core/config/env.js';
import { ClusterError } from '../../cluster/errors.js';
import { startBrokerPart } from './broker.js';
import type { PartContext, PartHandle } from './context.js';
import { startDashboardPart } from './dashboard.js';
import { startIngestPart } from './ingest.js';
import { startRulesPart } from './rules.js';
import { startSimulatePart } from './simulate.js';

/** One component per process (npm start -- --only PART); see cluster/README.md for the topology. */
const STARTERS: Record<Component, (ctx: PartContext) => Promise<PartHandle>> = {
  broker: startBrokerPart,
  ingest: startIngestPart,
  rules: startRulesPart,
  dashboard: startDashboardPart,
  simulate: startSimulatePart,
};

export function parsePart(value: string): Component {
  if ((COMPONENTS as readonly string[]).includes(value)) return value as Component;
  throw new ClusterError('BAD_PART', `--only ${value}: expected one of ${COMPONENTS.join(', ')} (without --only, npm start runs everything in one process)`);
}

export async function startPart(ctx: PartContext & { part: Component }): Promise<PartHandle> {
  if ((ctx.part === 'ingest' || ctx.part === 'rules' || ctx.part === 'dashboard') && !ctx.env.MQTT_URL)
    throw new ClusterError(
      'MQTT_UNREACHABLE',
      `--only ${ctx.part} talks to the other parts through a broker: set MQTT_URL (e.g. mqtt://127.0.0.1:1883) and MQTT_SERVICE_PASSWORD`,
    );
  return STARTERS[ctx.part](ctx);
}
