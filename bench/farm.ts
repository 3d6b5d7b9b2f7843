import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadFarmConfig } from '../core/config/load.js';
import type { FarmConfigT } from '../core/config/schema.js';
import { indexFarm } from '../core/farm-index.js';
import { mapLocalText, type LocalText } from '../core/local-text.js';
import { compileRule } from '../rules/compile.js';
import { createInstanceSet } from '../rules/instances.js';
import type { LoadDeviceSpec } from './load/protocol.js';
import { REPO_ROOT } from './targets/process.js';

/**
 * Farm files for the benchmark, generated from the bundled demo farm (config/demo-farm.yaml) so the service
 * runs its real rules on realistic zones:
 * - loadFarm: the demo farm plus a site `bench` of N shed sensors load-00000… (100 per zone) and a probe sensor;
 * - scaledDemoFarm: the demo farm copied K times (sites huyang-s1, …; device ids with -s1 …), site- and
 *   device-scoped rules copied with them, so hundreds of rule instances are live.
 * Every device shares one plain bench-only secret (a development default, never used outside a bench run).
 */
export const BENCH_SECRET = 'bench-only-device-secret';
export const BENCH_SITE = 'bench';
export const PROBE_DEVICE = 'probe-00';
export const LOAD_METRICS = ['temperature', 'humidity', 'nh3'];
export const VIEWER = { username: 'viewer', password: 'dev-only-viewer' };

// YAML as written: shape-checked by loadFarmConfig once the file is written, so loose typing here is contained.
type Raw = Record<string, any>;

function demoRaw(): Raw {
  const demo = parse(readFileSync(join(REPO_ROOT, 'config/demo-farm.yaml'), 'utf8')) as Raw;
  // The bench farm files are written elsewhere: the demo's register file is named relative to the demo farm file.
  if (demo.animals?.registerFile) demo.animals = { ...demo.animals, registerFile: join(REPO_ROOT, 'config', demo.animals.registerFile) };
  return demo;
}

const loadId = (i: number) => `load-${String(i).padStart(5, '0')}`;
const loadZone = (i: number) => `load-${String(Math.floor(i / 100)).padStart(3, '0')}`;

export function loadFarm(devices: number): Raw {
  const demo = demoRaw();
  const zones: Raw[] = [];
  for (let i = 0; i < devices; i++) {
    if (i % 100 === 0) zones.push({ id: loadZone(i), kind: 'shed', devices: [] });
    zones[zones.length - 1].devices.push({ id: loadId(i), role: 'sensor', secret: BENCH_SECRET, metrics: LOAD_METRICS });
  }
  zones.push({ id: 'probe', kind: 'shed', devices: [{ id: PROBE_DEVICE, role: 'sensor', secret: BENCH_SECRET, metrics: LOAD_METRICS }] });
  return { ...demo, sites: [...demo.sites, { id: BENCH_SITE, name: 'Benchmark load', zones }] };
}

export function loadDeviceSpecs(devices: number): LoadDeviceSpec[] {
  return Array.from({ length: devices }, (_, i) => spec(BENCH_SITE, loadZone(i), loadId(i), LOAD_METRICS));
}

export function probeSpec(): LoadDeviceSpec {
  return spec(BENCH_SITE, 'probe', PROBE_DEVICE, LOAD_METRICS);
}

function spec(site: string, zone: string, id: string, metrics: string[]): LoadDeviceSpec {
  const base = `farm/${site}/${zone}/${id}`;
  return { id, password: BENCH_SECRET, topic: `${base}/telemetry`, statusTopic: `${base}/status`, metrics };
}

const copyId = (id: string, k: number) => `${id}-s${k}`;

export function scaledDemoFarm(copies: number): Raw {
  const demo = demoRaw();
  const sites: Raw[] = [];
  const rules: Raw[] = [];
  for (let k = 1; k <= copies; k++) {
    for (const site of demo.sites as Raw[]) {
      sites.push({
        ...site,
        id: copyId(site.id, k),
        name: mapLocalText((site.name as LocalText | undefined) ?? site.id, (name) => `${name} (copy ${k})`),
        zones: (site.zones as Raw[]).map((z) => ({
          ...z,
          devices: (z.devices as Raw[]).map((d) => {
            const { secretHash: _unused, ...rest } = d;
            return { ...rest, id: copyId(d.id, k), secret: BENCH_SECRET };
          }),
        })),
      });
    }
  }
  for (const rule of demo.rules as Raw[]) {
    const scope = (rule.scope ?? {}) as Raw;
    if (!scope.site && !scope.device) {
      rules.push(rule);
      continue;
    }
    for (let k = 1; k <= copies; k++)
      rules.push({
        ...rule,
        id: copyId(rule.id, k),
        scope: { ...scope, ...(scope.site ? { site: copyId(scope.site, k) } : {}), ...(scope.device ? { device: copyId(scope.device, k) } : {}) },
        when: renameBaselineGauges(rule.when as Raw, k),
      });
  }
  // The copies share zone ids, so the demo's register (by zone) would be ambiguous: the rules bench needs no animals.
  const { animals: _animals, ...rest } = demo;
  return { ...rest, sites, rules };
}

/** A silting rule's rain gauges are devices of its site: each copy watches its own. */
function renameBaselineGauges(when: Raw, k: number): Raw {
  const baseline = when.baseline as Raw | undefined;
  if (!baseline) return when;
  return { ...when, baseline: { ...baseline, rain: (baseline.rain as string[]).map((g) => copyId(g, k)) } };
}

/** Sensors of a scaled farm as load devices. Field sensors leave rain_mm out so each reading carries exactly one count metric. */
export function scaledSensorSpecs(config: FarmConfigT, except: string[]): LoadDeviceSpec[] {
  const out: LoadDeviceSpec[] = [];
  for (const site of config.sites)
    for (const zone of site.zones)
      for (const d of zone.devices) {
        if (d.role !== 'sensor' || except.includes(d.id)) continue;
        let metrics = d.metrics ?? (zone.kind === 'drain' ? ['fill'] : ['temperature']);
        if (metrics.includes('temperature') || metrics.includes('fill')) metrics = metrics.filter((m) => m !== 'rain_mm');
        out.push(spec(site.id, zone.id, d.id, metrics));
      }
  return out;
}

/** Each generated reading carries exactly one of these (temperature: sheds, fields; fill: pipes, sump; rain_mm: gauges). */
export const SCALED_COUNT_METRICS = ['temperature', 'fill', 'rain_mm'];

/** Writes the farm file and loads it back through the service's own validation (a bad file fails here, not in the service). */
export function writeFarm(dir: string, name: string, farm: Raw): { path: string; config: FarmConfigT } {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `# Generated by npm run bench: bench-only secrets, never use outside a benchmark run.\n${stringify(farm, { aliasDuplicateObjects: false })}`,
  );
  return { path, config: loadFarmConfig(path) };
}

/** How many rule instances the engine will hold for this farm (one per rule and sensor in scope). */
export function ruleInstanceCount(config: FarmConfigT): number | undefined {
  try {
    const set = createInstanceSet(indexFarm(config), () => undefined);
    let n = 0;
    for (const rule of config.rules) if (rule.enabled !== false) n += set.add(compileRule(rule), Date.now()).length;
    return n;
  } catch {
    return undefined; // the rules module changed shape: the table shows n/a rather than a wrong number
  }
}
