import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parsePart } from '../../app/parts/index.js';
import { ownedSites, coverage } from '../../cluster/partition.js';
import { EnvSettings, storeChoice } from '../../core/config/env.js';
import { loadFarmConfig } from '../../core/config/load.js';
import type { Reading } from '../../core/domain.js';
import { silentLogger } from '../../core/logger.js';
import { createInfluxStore } from '../../store/influx-store.js';
import { influxql, startInfluxd, type Influxd } from '../helpers/influxd.js';

/**
 * No Docker engine runs here, so docker-compose.yml is checked against what the code reads: each service's
 * command, environment (the zod EnvSettings schema), ports and volumes, the rules partition, and Grafana's
 * provisioning. The Grafana panels' InfluxQL runs against a real InfluxDB holding readings written by our store.
 */
interface Service {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  profiles?: string[];
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const appServices = Object.entries(services).filter(([, s]) => s.build === '.');
const demo = loadFarmConfig('config/demo-farm.yaml');

/** Compose's ${VAR:-default} with nothing set: the default. */
const substitute = (v: string) => String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
const envOf = (s: Service) => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, substitute(v)]));
const partOf = (s: Service) => parsePart(s.command![s.command!.indexOf('--only') + 1]);
const containerPort = (mapping: string) => Number(mapping.split(':').pop());
const hostOf = (url: string) => new URL(url).hostname;

describe('docker-compose.yml matches what the code reads', () => {
  it('runs InfluxDB 1.8, Mosquitto, two ingest processes, rules, a dashboard, optional simulators and Grafana', () => {
    expect(services.influxdb.image).toBe('influxdb:1.8');
    expect(services.mosquitto.image).toMatch(/^eclipse-mosquitto:2/);
    expect(services.grafana.image).toMatch(/^grafana\/grafana/);
    const parts = appServices.map(([, s]) => partOf(s));
    expect(parts.filter((p) => p === 'ingest')).toHaveLength(2);
    expect(parts).toEqual(expect.arrayContaining(['rules', 'dashboard', 'simulate']));
    expect(services.simulators.profiles).toEqual(['simulators']);
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/^WORKDIR \/app$/m);
  });

  it('the image is built in two stages and runs dist/ with node as an unprivileged user, with a health check', () => {
    const lines = readFileSync('Dockerfile', 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));
    const stages = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('FROM '));
    expect(stages).toHaveLength(2);
    const runtime = lines.slice(stages[1][1]);
    // The runtime stage installs nothing and takes production dependencies only (pruned in the build stage).
    expect(lines.slice(0, stages[1][1]).join('\n')).toMatch(/npm run build && npm prune --omit=dev/);
    expect(runtime.join('\n')).not.toMatch(/npm (ci|install)|tsx|\.ts\b/);
    expect(runtime.find((l) => l.startsWith('USER '))).toMatch(/^USER (?!root\b)\w+/);
    expect(runtime.find((l) => l.startsWith('CMD '))).toBe('CMD ["node", "dist/app/main.js"]');
    const check = runtime.find((l) => l.startsWith('HEALTHCHECK '))!;
    expect(check).toMatch(/CMD \["node", "dist\/app\/healthcheck\.js"\]/);
    expect(existsSync('app/healthcheck.ts')).toBe(true);
    // Whatever compose starts is in the image: the compiled entry and the farm file it names.
    expect(runtime.join('\n')).toMatch(/COPY --from=build \/app\/config \.\/config/);
  });

  it.each(appServices)('%s: its command runs the compiled service with node (--only PART) and its environment parses with the env schema', (_name, s) => {
    expect(s.command!.slice(0, 2)).toEqual(['node', 'dist/app/main.js']);
    expect(() => partOf(s)).not.toThrow();
    const env = envOf(s);
    const unknown = Object.keys(env).filter((k) => !(k in EnvSettings.shape));
    expect(unknown).toEqual([]);
    const parsed = EnvSettings.safeParse(env);
    expect(parsed.success, JSON.stringify(!parsed.success && parsed.error.issues)).toBe(true);
    // The farm file is in the image (the repository is copied to /app).
    expect(env.FARM_CONFIG).toMatch(/^\/app\//);
    expect(existsSync(env.FARM_CONFIG.replace(/^\/app\//, ''))).toBe(true);
    // The broker is the compose service, on the port Mosquitto listens on (npm run mosquitto-config's default 1883).
    expect(hostOf(env.MQTT_URL)).toBe('mosquitto');
    expect(new URL(env.MQTT_URL).port || '1883').toBe(String(containerPort(services.mosquitto.ports![0])));
  });

  it.each(appServices.filter(([, s]) => partOf(s) !== 'simulate'))(
    '%s: HTTP_PORT is published or exposed, DATA_DIR is its own volume, InfluxDB is the compose service',
    (name, s) => {
      const env = EnvSettings.parse(envOf(s));
      const open = [...(s.ports ?? []).map(containerPort), ...(s.expose ?? []).map(Number)];
      expect(open).toContain(env.HTTP_PORT);
      const mounts = (s.volumes ?? []).map((v) => ({ source: v.split(':')[0], target: v.split(':')[1] }));
      const data = mounts.find((m) => m.target === env.DATA_DIR);
      expect(data, `${name} needs a volume at DATA_DIR (its outbox)`).toBeDefined();
      expect(compose.volumes).toHaveProperty(data!.source);
      const others = appServices.filter(([n]) => n !== name).flatMap(([, o]) => (o.volumes ?? []).map((v) => v.split(':')[0]));
      expect(others).not.toContain(data!.source);
      const choice = storeChoice(env);
      expect(choice.kind).toBe('influx-v1');
      expect(hostOf(env.INFLUX_URL!)).toBe('influxdb');
      expect(env.INFLUX_DATABASE).toBe(services.influxdb.environment!.INFLUXDB_DB);
      if (name === 'dashboard') expect((s.ports ?? []).map((p) => p.split(':')[0])).toContain(String(env.HTTP_PORT));
    },
  );

  it('ingest processes share one subscription group and have distinct instance ids', () => {
    const ingest = appServices.filter(([, s]) => partOf(s) === 'ingest').map(([, s]) => EnvSettings.parse(envOf(s)));
    expect(new Set(ingest.map((e) => e.INGEST_SHARE_GROUP)).size).toBe(1);
    const ids = appServices.map(([, s]) => envOf(s).INSTANCE_ID).filter(Boolean);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the rules processes own every demo site exactly once', () => {
    const members = appServices
      .filter(([, s]) => partOf(s) === 'rules')
      .map(([name, s]) => ({ instance: name, sites: ownedSites(demo, EnvSettings.parse(envOf(s)).RULES_SITES), startedAt: 0 }));
    const c = coverage(
      demo.sites.map((s) => s.id),
      members,
    );
    expect(c.unowned).toEqual([]);
    expect(c.conflicts).toEqual([]);
  });

  it('Mosquitto reads the generated files from the mounted directory', () => {
    const mount = services.mosquitto
      .volumes!.map((v) => ({ source: v.split(':')[0], target: v.split(':')[1] }))
      .find((m) => m.source === './mosquitto/generated')!;
    expect(mount).toBeDefined();
    const conf = services.mosquitto.command![services.mosquitto.command!.indexOf('-c') + 1];
    expect(conf).toBe(`${mount.target}/mosquitto.conf`);
    // The header tells the user to generate with --dir at that path.
    expect(readFileSync('docker-compose.yml', 'utf8')).toContain(`--out mosquitto/generated --dir ${mount.target}`);
  });

  it('Grafana is provisioned with the InfluxDB service as data source and the dashboard folder it mounts', () => {
    const mounts = Object.fromEntries(services.grafana.volumes!.map((v) => v.split(':')).map(([source, target]) => [target, source]));
    expect(mounts['/etc/grafana/provisioning']).toBe('./grafana/provisioning');
    const ds = parse(readFileSync('grafana/provisioning/datasources/influxdb.yaml', 'utf8')).datasources[0];
    expect(ds.type).toBe('influxdb');
    expect(hostOf(ds.url)).toBe('influxdb');
    expect(Number(new URL(ds.url).port)).toBe(containerPort(services.influxdb.ports![0]));
    expect(ds.jsonData.dbName).toBe(services.influxdb.environment!.INFLUXDB_DB);
    const provider = parse(readFileSync('grafana/provisioning/dashboards/farm.yaml', 'utf8')).providers[0];
    expect(mounts[provider.options.path]).toBe('./grafana/dashboards');
    const dashboard = JSON.parse(readFileSync('grafana/dashboards/farm.json', 'utf8'));
    for (const p of dashboard.panels.filter((p: { type: string }) => p.type !== 'row')) expect(p.datasource.uid).toBe(ds.uid);
  });
});

describe('the Grafana panels query the InfluxDB schema the store writes', () => {
  let influx: Influxd;
  const panels = (
    JSON.parse(readFileSync('grafana/dashboards/farm.json', 'utf8')).panels as { type: string; title: string; targets?: { query: string }[] }[]
  ).filter((p) => p.type !== 'row');
  const now = Date.now();

  beforeAll(async () => {
    influx = await startInfluxd();
    const store = createInfluxStore(storeChoice(EnvSettings.parse({ INFLUX_URL: influx.url, INFLUX_DATABASE: 'farm' })), { logger: silentLogger() });
    await store.init();
    const readings: Reading[] = [];
    for (let i = 0; i < 6; i++) {
      readings.push({
        site: 'huyang',
        zone: 'shed-1',
        kind: 'shed',
        device: 'shed-1-env',
        ts: now - i * 60_000,
        metrics: { temperature: 28, humidity: 60, nh3: 12 + i },
      });
      readings.push({ site: 'xihu-drain', zone: 'pipe-01', kind: 'drain', device: 'pipe-01-level', ts: now - i * 60_000, metrics: { fill: 40 + i } });
      readings.push({ site: 'xihu-drain', zone: 'rain-1', kind: 'drain', device: 'rain-1-gauge', ts: now - i * 60_000, metrics: { rain_mm: 2 } });
    }
    await store.writeReadings(readings);
    await store.close();
  });
  afterAll(async () => influx?.stop());

  it('has panels for shed temperature, ammonia and THI, and for pipe fill and rain', () => {
    const queries = panels.map((p) => p.targets![0].query).join('\n');
    for (const metric of ['"temperature"', '"nh3"', '"humidity"', '"fill"', '"rain_mm"']) expect(queries).toContain(metric);
    expect(panels.map((p) => p.title).join(' ')).toMatch(/THI/);
  });

  it.each(panels.map((p) => [p.title, p.targets![0].query]))('%s: its query returns the stored readings', async (_title, query) => {
    const q = query.replace('$timeFilter', 'time > now() - 1h').replace('$__interval', '10m');
    const results = await influxql(influx.url, q, { db: 'farm' });
    const series = results[0]?.series ?? [];
    expect(series.length).toBeGreaterThan(0);
    const values = series.flatMap((s) => s.values.map((v) => v[1] as number));
    expect(values.every((v) => Number.isFinite(v))).toBe(true);
    if (query.includes('0.31')) {
      // THI of 28 °C at 60 %RH: 28 - (0.31 - 0.186) * 13.6 = 26.31 (extreme band, >= 25.6).
      expect(values[0]).toBeCloseTo(26.31, 1);
    }
  });
});
