import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { FarmConfig, type FarmConfigT } from './schema.js';
import { EnvSettings, type EnvSettingsT } from './env.js';
import { CsvError, parseAnimalsCsv } from './animals-csv.js';

/**
 * A config problem: names where it is (the farm file and the path inside it, or the environment variable), the
 * reason, and what to do: the advice differs, so that a bad `HTTP_PORT` is not answered with "fix the file".
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly source: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(source === ENVIRONMENT ? environmentMessage(problems) : fileMessage(source, problems));
    this.name = 'ConfigError';
  }
}

/** The `source` of a problem with environment variables rather than with the farm file. */
export const ENVIRONMENT = 'environment';

const list = (problems: { path: string; message: string }[]) => problems.map((p) => `  - ${p.path || '(top level)'}: ${p.message}`).join('\n');

function fileMessage(source: string, problems: { path: string; message: string }[]): string {
  return `${source} is invalid:\n${list(problems)}\nFix the file (docs/configuration.md describes every key) and start again.`;
}

function environmentMessage(problems: { path: string; message: string }[]): string {
  return (
    `An environment variable is invalid (the farm file is not the problem):\n${list(problems)}\n` +
    `Set ${problems.length === 1 ? 'it' : 'them'} to a valid value, or unset ${problems.length === 1 ? 'it' : 'them'} for the default, and start again (docs/environment.md lists every variable).`
  );
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

/** `baseDir`: where `animals.registerFile` is looked for (the farm file's folder); without it, the working directory. */
export function parseFarmConfig(text: string, source = 'config', baseDir?: string): FarmConfigT {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml package refuses to expand aliases beyond maxAliasCount ("billion laughs"); anything else is ours.
    if (!(err instanceof ReferenceError) || !/alias/i.test(err.message)) throw err;
    throw new ConfigError(source, [
      {
        path: '',
        message: `the file's YAML aliases (*name) expand to more than ${MAX_ALIAS_COUNT} copies, which looks like an alias bomb: write the values out or use fewer aliases (${err.message})`,
      },
    ]);
  }
  const fromFile = withRegisterFile(data, source, baseDir);
  const result = FarmConfig.safeParse(data);
  if (!result.success)
    throw new ConfigError(
      source,
      zodProblems(result.error).map((p) => fromFile?.rename(p) ?? p),
    );
  return result.data;
}

/**
 * Appends the animals of `animals.registerFile` (CSV) to `animals.register` before validation, so one schema
 * checks both; a problem with a CSV animal is reported with the CSV file and line, not a register index.
 */
function withRegisterFile(raw: unknown, source: string, baseDir: string | undefined) {
  const animals = (raw as { animals?: { registerFile?: unknown; register?: unknown } } | null)?.animals;
  if (!animals || typeof animals.registerFile !== 'string') return undefined;
  const file = resolve(baseDir ?? '.', animals.registerFile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(source, [
      { path: 'animals.registerFile', message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code}): the path is relative to the farm file` },
    ]);
  }
  let parsed;
  try {
    parsed = parseAnimalsCsv(text);
  } catch (err) {
    if (err instanceof CsvError) throw new ConfigError(source, [{ path: 'animals.registerFile', message: `${file}: ${err.message}` }]);
    throw err;
  }
  if (parsed.rejected.length > 0)
    throw new ConfigError(
      source,
      parsed.rejected.slice(0, 20).map((r) => ({ path: `animals.registerFile (${file}) line ${r.line}`, message: r.reason })),
    );
  const inline: unknown[] = Array.isArray(animals.register) ? animals.register : [];
  animals.register = [...inline, ...parsed.animals.map(({ line: _line, ...a }) => a)];
  const lines = parsed.animals.map((a) => a.line);
  return {
    rename(p: { path: string; message: string }) {
      const m = /^animals\.register\[(\d+)\](.*)$/.exec(p.path);
      if (!m || Number(m[1]) < inline.length) return p;
      return {
        path: `animals.registerFile (${file}) line ${lines[Number(m[1]) - inline.length]}${m[2] ? ` ${m[2].replace(/^\./, '')}` : ''}`,
        message: p.message,
      };
    },
  };
}

export function loadFarmConfig(path: string): FarmConfigT {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [
      {
        path: '',
        message: `cannot read the file (${(err as NodeJS.ErrnoException).code}): set FARM_CONFIG to the path of a YAML farm file (default config/demo-farm.yaml)`,
      },
    ]);
  }
  return parseFarmConfig(text, path, dirname(path));
}

export function loadEnvSettings(env: NodeJS.ProcessEnv = process.env): EnvSettingsT {
  const picked = Object.fromEntries(
    Object.keys(EnvSettings.shape)
      .filter((k) => env[k] !== undefined && env[k] !== '')
      .map((k) => [k, env[k]]),
  );
  const result = EnvSettings.safeParse(picked);
  if (!result.success)
    throw new ConfigError(
      ENVIRONMENT,
      zodProblems(result.error).map((p) => {
        const value = picked[p.path.split(/[.[]/)[0]];
        // Name what was given, unless it is a secret; a URL's user and password (smtp://user:pass@host) are left out.
        const shown = typeof value === 'string' && !/PASSWORD|TOKEN|SECRET/.test(p.path) ? `=${JSON.stringify(value.replace(/\/\/[^/@\s]*@/, '//…@'))}` : '';
        return { path: `${p.path}${shown}`, message: p.message };
      }),
    );
  return result.data;
}
