import { parseArgs } from 'node:util';
import { parseDurationMs } from '../core/duration.js';

/** Command line of `npm run bench`: parsed and checked here; every error says what to type instead. */
export const SCENARIOS = ['broker', 'pipeline', 'rules', 'dashboard', 'memory', 'soak', 'tags', 'export', 'all'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenario: Scenario;
  runs: number;
  quick: boolean;
  durationMs?: number;
  out: string;
  profile: boolean;
  workers: number;
  devices?: number;
  publishers?: number;
  rate?: number;
  clients?: number;
  rows?: number;
  stores: ('embedded' | 'influx')[];
  refs: boolean;
  help: boolean;
}

export class UsageError extends Error {
  readonly code = 'BENCH_USAGE';
  constructor(message: string) {
    super(`${message}\nRun \`npm run bench -- --help\` to see the options.`);
    this.name = 'UsageError';
  }
}

export const HELP = `Benchmark of farmwatch: raw references, pipeline, rules, dashboard, memory, soak.

Usage: npm run bench -- [scenario] [options]

Scenarios (default: all):
  broker      raw references, the embedded broker alone and Mosquitto (/usr/sbin/mosquitto) -> 1 subscriber,
              QoS 0 and 1: capacity (a few pipelined publishers, open loop, as emqtt-bench) and 1,000 devices
              each waiting for its acknowledgements (closed loop); plus InfluxDB's raw line-protocol write rate
  pipeline    broker -> validation -> store (embedded and InfluxDB, QoS 0 and 1): capacity (the same pipelined
              publishers) as a ratio to the broker's capacity, the closed-loop rate, and publish -> stored
              latency at a moderate rate (measures the references it needs first, unless --no-refs)
  rules       sensor publish -> actuator command latency at 1,000 and 5,000 readings/s, demo rules on a farm
              scaled from the demo farm (hundreds of rule instances)
  dashboard   200 socket.io clients on one site while readings flow at 1,000/s: delivery latency, service CPU
  memory      service RSS and heap with 10,000 connected devices (--devices, up to the open-file limit)
  soak        2,000 devices for 30 minutes at a steady rate with dashboard clients: throughput, p99, RSS
              at start and end (not part of "all")
  tags        ear tags at the park's scale: 45,000 sheep, 150 gate readers sending every flock out and in
              at 500 reads/s: reads acknowledged and stored per second, RSS, head counts, restart
  export      a CSV export of 1,000,000 stored readings (a year of one device) over GET /api/readings:
              the service's peak memory while it streams, and the time it takes (not part of "all")
  all         broker, pipeline, rules, dashboard, memory, tags

Options:
  --runs <n>          runs per figure; the median is reported with min and max (default 3; --quick: 1)
  --quick             tiny sizes and short phases, to check the script works (about 2-4 minutes for all)
  --duration <d>      length of each measured phase, e.g. 20s (soak: the whole soak, e.g. 30m)
  --devices <n>       closed-loop devices for broker/pipeline (default 1000), memory (10000) or soak (2000); animals for tags (45000)
  --publishers <n>    pipelined publishers of the capacity figures (default 4)
  --rows <n>          readings in the export scenario (default 1000000)
  --rate <n>          readings/s of the soak (default 1000); tag reads/s of tags (default 500)
  --clients <n>       socket.io clients for dashboard (default 200) or soak (default 50)
  --store <s>         embedded | influx | both: stores for pipeline (default both) and soak (default embedded)
  --workers <n>       load-generator processes (default 1)
  --no-refs           pipeline without measuring the raw references first (no ratios)
  --profile           run the service under node --cpu-prof and print where its CPU time goes
  --out <dir>         where results go (default bench-results/, git-ignored)
  -h, --help          this help

Progress goes to stderr; the markdown table goes to stdout and to <out>/bench-<time>.md (raw per-run values
in the .json next to it). Needs /usr/bin/influxd (apt-get install -y influxdb) for InfluxDB figures and
/usr/sbin/mosquitto (apt-get install -y mosquitto) for the Mosquitto reference.

Examples:
  npm run bench -- --quick                 # does everything work? (~2-4 min)
  npm run bench                            # all figures, 3 runs each (~35-45 min)
  npm run bench -- pipeline --profile      # pipeline figures and a CPU profile of the service
  npm run bench -- soak                    # 30-minute soak
`;

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number of at least 1, got "${text}"`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        runs: { type: 'string' },
        quick: { type: 'boolean', default: false },
        duration: { type: 'string' },
        devices: { type: 'string' },
        publishers: { type: 'string' },
        rate: { type: 'string' },
        clients: { type: 'string' },
        rows: { type: 'string' },
        store: { type: 'string' },
        workers: { type: 'string' },
        'no-refs': { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
        out: { type: 'string', default: 'bench-results' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`give one scenario, got "${positionals.join(' ')}"`);
  const scenario = (positionals[0] ?? 'all') as Scenario;
  if (!SCENARIOS.includes(scenario)) throw new UsageError(`unknown scenario "${scenario}": choose one of ${SCENARIOS.join(', ')}`);
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    try {
      durationMs = parseDurationMs(/^\d+(\.\d+)?$/.test(values.duration) ? `${values.duration}s` : values.duration);
    } catch (err) {
      throw new UsageError(`--duration: ${(err as Error).message}`);
    }
    if (durationMs < 1000) throw new UsageError('--duration must be at least 1s');
  }
  const storeText = values.store ?? (scenario === 'soak' ? 'embedded' : 'both');
  if (!['embedded', 'influx', 'both'].includes(storeText)) throw new UsageError(`--store must be embedded, influx or both, got "${storeText}"`);
  return {
    scenario,
    runs: positiveInt('runs', values.runs) ?? (values.quick ? 1 : 3),
    quick: values.quick,
    durationMs,
    out: values.out,
    profile: values.profile,
    workers: positiveInt('workers', values.workers) ?? 1,
    devices: positiveInt('devices', values.devices),
    publishers: positiveInt('publishers', values.publishers),
    rate: positiveInt('rate', values.rate),
    clients: positiveInt('clients', values.clients),
    rows: positiveInt('rows', values.rows),
    stores: storeText === 'both' ? ['embedded', 'influx'] : [storeText as 'embedded' | 'influx'],
    refs: !values['no-refs'],
    help: values.help,
  };
}
