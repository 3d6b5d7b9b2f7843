import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { FarmConfig, type FarmConfigT } from './schema.js';
import { EnvSettings, type EnvSettingsT } from './env.js';

/** A config problem: names the file, the path inside it and the reason, and says what to do. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly source: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(
      `${source} is invalid:\n` +
        problems.map((p) => `  - ${p.path || '(top level)'}: ${p.message}`).join('\n') +
        `\nFix the file (see README "Configuration") and start again.`,
    );
    this.name = 'ConfigError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

export function zodProblems(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/**
 * How far YAML aliases may expand (the yaml package's own default): a farm file uses a few for shared device
 * settings; nine levels of nine aliases each ("billion laughs") would be 387 million strings.
 */
const MAX_ALIAS_COUNT = 100;

export function parseFarmConfig(text: string, source = 'config'): FarmConfigT {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] })));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml package refuses to expand aliases beyond maxAliasCount ("billion laughs"); anything else is ours.
    if (!(err instanceof ReferenceError) || !/alias/i.test(err.message)) throw err;
    throw new ConfigError(source, [{ path: '', message: `the file's YAML aliases (*name) expand to more than ${MAX_ALIAS_COUNT} copies, which looks like an alias bomb: write the values out or use fewer aliases (${err.message})` }]);
  }
  const result = FarmConfig.safeParse(data);
  if (!result.success) throw new ConfigError(source, zodProblems(result.error));
  return result.data;
}

export function loadFarmConfig(path: string): FarmConfigT {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the file (${(err as NodeJS.ErrnoException).code}); set FARM_CONFIG to a YAML farm file` }]);
  }
  return parseFarmConfig(text, path);
}

export function loadEnvSettings(env: NodeJS.ProcessEnv = process.env): EnvSettingsT {
  const picked = Object.fromEntries(Object.keys(EnvSettings.shape).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const result = EnvSettings.safeParse(picked);
  if (!result.success) throw new ConfigError('environment', zodProblems(result.error));
  return result.data;
}
