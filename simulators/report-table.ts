import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ScenarioReport } from './report.js';

/**
 * `npm run report-table -- a.json b.json`: the README's table of what each scenario made the service do, from the
 * report files of `npm run simulate -- --report`. Markdown on stdout, one row per report.
 */
export function reportTable(reports: ScenarioReport[]): string {
  const rows = reports.map((r) => {
    const byRule = new Map<string, number>();
    for (const a of r.alerts) byRule.set(a.rule, (byRule.get(a.rule) ?? 0) + 1);
    const rules = [...byRule].map(([rule, n]) => `${rule} ${n}`).join(', ') || '–';
    const days = Math.round(((r.end - r.start) / 86_400_000) * 10) / 10;
    const acts = new Map<string, number>();
    for (const a of r.actuations) acts.set(a.type ?? a.device, (acts.get(a.type ?? a.device) ?? 0) + 1);
    const actuations = [...acts].map(([type, n]) => `${type} ${n}`).join(', ') || '–';
    return `| \`${r.scenario}\` | ${r.startLocal.slice(0, 10)}, ${days} d, ${r.sites.join(' + ')} | ${r.alerts.length}: ${rules} | ${r.budget.maxPerZoneDay} | ${r.actuations.length}: ${actuations} |`;
  });
  return [
    '| scenario | simulated | alerts raised, by rule | most alerts one zone raised in a local day | commands sent, by actuator |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: npm run report-table -- report.json [more.json ...] (files written by npm run simulate -- --report)\n');
    process.exit(2);
  }
  try {
    process.stdout.write(reportTable(files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as ScenarioReport)) + '\n');
  } catch (err) {
    process.stderr.write(`cannot read the reports: ${(err as Error).message}; give the JSON files npm run simulate -- --report wrote\n`);
    process.exit(1);
  }
}
