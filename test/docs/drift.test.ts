import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { EnvSettings } from '../../core/config/env.js';
import { FarmConfig } from '../../core/config/schema.js';
import { METRICS } from '../../core/metrics-catalog.js';
import { REJECT_REASONS } from '../../core/events.js';
import {
  ActuateAction,
  ActuatorCondition,
  AlertAction,
  Baseline,
  Level,
  MetricCondition,
  NotifyAction,
  Rule,
  Schedule,
  Scope,
  StaleCondition,
  Threshold,
} from '../../rules/schema.js';
import { parseFaultSpec } from '../../simulators/models/faults.js';
import { buildTestDashboard, type TestDashboard } from '../dashboard/fixtures.js';

/**
 * The reference in docs/ is written from the code; these checks keep it that way where it is cheap: the
 * environment variables the code reads and the table lists are the same set, every registered route is in the
 * API reference (and every route it lists exists), every key of the farm file's schema is described, the metrics
 * table is the catalogue, and every relative link of the docs and READMEs resolves inside the repository.
 */
const ROOT = resolve('.');
const read = (path: string) => readFileSync(path, 'utf8');
const SOURCE_DIRS = ['app', 'core', 'broker', 'ingest', 'rules', 'dashboard', 'simulators', 'store', 'cluster', 'animals', 'bench'];

function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : filesUnder(path, ext);
    return ext.test(e.name) ? [path] : [];
  });
}

/** `NAME` cells of the first column of the docs' environment table (`A` / `B` and `A`, `B` name several). */
function documentedVariables(): Set<string> {
  const names = new Set<string>();
  for (const line of read('docs/environment.md').split('\n')) {
    const cell = /^\| ([^|]+) \|/.exec(line)?.[1];
    if (!cell || cell.trim() === 'variable') continue;
    for (const m of cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]);
  }
  return names;
}

/** Every environment variable the product reads: the env schema's, and `process.env.X` / `env.X` in its source. */
function variablesRead(): Set<string> {
  const names = new Set(Object.keys(EnvSettings.shape));
  for (const file of SOURCE_DIRS.flatMap((d) => filesUnder(d, /\.ts$/))) {
    for (const m of read(file).matchAll(/\b(?:process\.env|env)\.([A-Z][A-Z0-9_]{2,})\b/g)) names.add(m[1]);
  }
  return names;
}

/** Object keys anywhere in a zod schema (zod 4 definitions), e.g. `sites`, `timezone`, `failsafe`, `after`. */
function schemaKeys(schema: z.ZodType, seen = new Set<unknown>()): Set<string> {
  const keys = new Set<string>();
  const visit = (s: unknown): void => {
    if (!s || typeof s !== 'object' || seen.has(s)) return;
    seen.add(s);
    const def = (s as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return;
    if (def.type === 'object') {
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) {
        keys.add(k);
        visit(v);
      }
    }
    for (const field of ['innerType', 'element', 'in', 'out', 'valueType', 'left', 'right', 'schema']) visit(def[field]);
    for (const option of (def.options as unknown[] | undefined) ?? []) visit(option);
  };
  visit(schema);
  return keys;
}

describe('docs/environment.md', () => {
  it('lists every environment variable the service and the tools read, and only those', () => {
    const read = variablesRead();
    const documented = documentedVariables();
    expect([...read].filter((v) => !documented.has(v)).sort(), 'read by the code but missing from the table').toEqual([]);
    expect([...documented].filter((v) => !read.has(v)).sort(), 'in the table but read by nothing').toEqual([]);
  });

  it('is the one table: the README and cluster/README link to it instead of keeping their own', () => {
    for (const file of ['README.md', 'cluster/README.md']) {
      const text = read(file);
      expect(text, file).toContain('docs/environment.md');
      expect(text, `${file} has a table row for an environment variable`).not.toMatch(/^\| `(FARM_CONFIG|DATA_DIR|INSTANCE_ID|HTTP_PORT)` \|/m);
    }
  });
});

describe('docs/http-api.md', () => {
  let t: TestDashboard;
  beforeAll(async () => {
    t = await buildTestDashboard();
    await t.dashboard.app.ready();
  });
  afterAll(() => t?.close());

  const doc = () => read('docs/http-api.md');
  const asDocumented = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

  it("names every registered route with its method (the page's files by path)", () => {
    const routes = t.dashboard.routes().filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/api/docs/static'));
    expect(routes.length).toBeGreaterThan(40);
    const missing = routes
      .map((r) => ({ method: r.method, path: asDocumented(r.url) }))
      // An API route by method and path; the OpenAPI page's own routes and the page's files may go by path alone.
      .filter(
        ({ method, path }) =>
          !doc().includes(`\`${method} ${path}\``) && !((path.startsWith('/api/docs') || !path.startsWith('/api/')) && doc().includes(`\`${path}\``)),
      )
      .map(({ method, path }) => `${method} ${path}`);
    expect(missing).toEqual([]);
  });

  it('lists no route that does not exist', () => {
    const registered = new Set(t.dashboard.routes().map((r) => `${r.method} ${asDocumented(r.url)}`));
    const listed = [...doc().matchAll(/`(GET|POST|PUT|DELETE|PATCH) (\/[^`\s]*)`/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(listed.length).toBeGreaterThan(30);
    expect(listed.filter((r) => !registered.has(r))).toEqual([]);
  });
});

describe('docs/configuration.md and docs/rules.md', () => {
  it("describe every key of the farm file's schema and of the rule language", () => {
    const text = read('docs/configuration.md') + read('docs/rules.md');
    const keys = new Set([
      ...schemaKeys(FarmConfig),
      ...[
        Rule,
        MetricCondition,
        StaleCondition,
        ActuatorCondition,
        Baseline,
        Threshold,
        Level,
        Schedule,
        ActuateAction,
        AlertAction,
        NotifyAction,
        Scope,
      ].flatMap((s) => [...schemaKeys(s as z.ZodType)]),
      'all',
      'any',
      'actuate',
      'alert',
      'notify',
    ]);
    expect([...keys].filter((k) => !text.includes(`\`${k}\``)).sort()).toEqual([]);
  });
});

describe('docs/mqtt.md', () => {
  it('has the metrics catalogue as the code has it: units, ranges and zone kinds', () => {
    const rows = new Map<string, string[]>();
    for (const m of read('docs/mqtt.md').matchAll(/^\| `([a-z_0-9]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$/gm))
      rows.set(m[1], [m[2].trim(), m[3].trim(), m[4].trim()]);
    expect([...rows.keys()].sort()).toEqual(Object.keys(METRICS).sort());
    for (const [name, spec] of Object.entries(METRICS)) {
      const [unit, range, kinds] = rows.get(name)!;
      expect(unit, name).toContain(spec.unit === '% of pipe height' ? '% of pipe height' : spec.unit === 'mm' ? 'mm' : spec.unit);
      expect(range, name).toBe(`${spec.min} … ${spec.max}`);
      expect(kinds.split(', ').sort(), name).toEqual([...spec.kinds].sort());
    }
  });

  it('explains every reject reason', () => {
    const text = read('docs/mqtt.md');
    expect(REJECT_REASONS.filter((r) => !text.includes(`\`${r}\``))).toEqual([]);
  });
});

describe('links and names in the docs and READMEs', () => {
  const pages = [
    'README.md',
    ...filesUnder('docs', /\.md$/),
    ...readdirSync('.')
      .filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'README.md')) && d !== 'node_modules')
      .map((d) => join(d, 'README.md')),
  ];

  it('every relative link resolves to a file of the repository; none leads outside it', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const m of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1].split('#')[0];
        if (!target || /^[a-z]+:/.test(target)) continue;
        const path = resolve(dirname(page), target);
        if (relative(ROOT, path).startsWith('..')) broken.push(`${page}: ${m[1]} leads outside the repository`);
        else if (!existsSync(path)) broken.push(`${page}: ${m[1]} does not exist`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the README links the docs and every recipe script, and names no SPEC outside the repository', () => {
    const readme = read('README.md');
    for (const page of [
      'docs/README.md',
      'docs/mqtt.md',
      'docs/configuration.md',
      'docs/rules.md',
      'docs/http-api.md',
      'docs/environment.md',
      'docs/demo-farm.md',
      'docs/demo-farm.zh-CN.md',
    ])
      expect(readme, page).toContain(`](${page}`);
    for (const script of readdirSync('scripts/recipes').filter((f) => f.endsWith('.sh') && f !== 'lib.sh'))
      expect(read('README.md') + read('docs/README.md'), script).toContain(`scripts/recipes/${script}`);
    expect(readme).not.toMatch(/SPEC|\.\.\/shared/);
  });

  it('every fault the README names is one the simulator takes', () => {
    const readme = read('README.md');
    const span = readme.slice(readme.indexOf('`--fault kind[:device]` adds a fault'), readme.indexOf('In every scenario the flock'));
    const names = [...span.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThanOrEqual(9);
    expect(
      names.filter((n) => {
        try {
          parseFaultSpec(n);
          return false;
        } catch {
          return true;
        }
      }),
    ).toEqual([]);
  });
});
