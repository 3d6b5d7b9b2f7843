import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFarmConfig } from '../../core/config/load.js';
import { runInProcess, type InProcessOptions } from '../../simulators/in-process.js';
import type { AlertRecord, ScenarioReport } from '../../simulators/report.js';
import { DEMO_CONFIG } from '../helpers/service.js';

/**
 * A scenario of the demo farm against the whole service in this process, on the simulator's clock, exactly as
 * `npm run simulate -- --scenario NAME --report FILE` runs it; the report lands in test-artifacts/reports/, where
 * `npm run report-table` makes the README's table from it.
 */
export const REPORT_DIR = 'test-artifacts/reports';

export async function scenarioReport(scenario: string, opts: Omit<InProcessOptions, 'farm' | 'scenario'> = {}): Promise<ScenarioReport> {
  const report = await runInProcess({ farm: loadFarmConfig(DEMO_CONFIG), scenario, ...opts });
  mkdirSync(REPORT_DIR, { recursive: true });
  writeFileSync(join(REPORT_DIR, `${scenario}.json`), JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** Faults the budget leaves out: a silent sensor, an actuator that does not answer, a zone in fail-safe. */
export const isFault = (a: Pick<AlertRecord, 'rule'>) => a.rule.startsWith('system:') || a.rule === 'sensor-stale';
