import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The figures a fault test measured (recovery time, drain rate, ...): printed, and kept in test-artifacts/reliability/. */
export function report(name: string, figures: Record<string, unknown>): void {
  const dir = join('test-artifacts', 'reliability');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ at: new Date().toISOString(), ...figures }, null, 2)}\n`);
  console.log(`[reliability] ${name}: ${JSON.stringify(figures)}`);
}
