import { parseArgs } from 'node:util';
import { parseDurationMs } from '../core/duration.js';
import { SCENARIO_NAMES, getScenario } from './scenarios.js';
import { type FaultSpec, parseFaultSpec, FAULT_ALIASES, FAULT_KINDS } from './models/faults.js';

/** Command-line options of `npm run simulate`, parsed and checked; errors say what to type instead. */
export interface CliOptions {
  scenario: string;
  speed: number;
  seed: number;
  /** Simulated seconds (simulation) or wall seconds (load mode); undefined = the scenario's own length. */
  durationSec?: number;
  startTs?: number;
  reportEverySec?: number;
  broker: string;
  config: string;
  secretsFile?: string;
  topicRoot: string;
  faults: FaultSpec[];
  qos: 0 | 1;
  load?: number;
  /** Tag load mode: every gate reader sends its shed's flock out and back in at --rate reads/s. */
  tagLoad: boolean;
  rate: number;
  loadSecret?: string;
  quiet: boolean;
  list: boolean;
  help: boolean;
  /** Run the service in this process on the simulator's clock and write a JSON report of what it did here. */
  report?: string;
  /** With --report: only these sites of the farm file. */
  sites?: string[];
}

export class UsageError extends Error {
  readonly code = 'SIM_USAGE';
  constructor(message: string) {
    super(`${message}\nRun with --help to see the options.`);
    this.name = 'UsageError';
  }
}

export const HELP = `Simulated farm devices for farmwatch: sheds, fields, drainage pipes, rain gauges.

Usage: npm run simulate -- [options]

Against a service started with plain \`npm start\` on the demo farm: that service already simulates the demo farm
itself (SIMULATE defaults to true there), and two clients with the same device ids knock each other off the broker.
Start it with SIMULATE=false (\`SIMULATE=false npm start\`) before running this; the simulator stops and says so when
the broker keeps closing its devices.

  --scenario <name>     ${SCENARIO_NAMES.join(' | ')} (default normal-day)
  --speed <n>           simulated seconds per real second; 60 = one simulated hour per minute (default 1)
  --seed <n>            same seed, same series (default 1)
  --duration <d>        how long to play, simulated: 90s, 30m, 6h (default: the scenario's length);
                        in load mode, real seconds of publishing (default 60)
  --days <n>            how long to play, in simulated days (the same as --duration <n>d)
  --report <file>       run the service in this process on the simulator's clock (no broker needed), play the
                        scenario as fast as the service takes it, and write a JSON report of every alert (rule,
                        zone, level, raised, acknowledged, cleared) and actuation, with alerts per zone and day
  --sites <a,b>         with --report: only these sites of the farm file (faster when the others do not matter)
  --start <iso|now>     simulated start time; timestamps follow it. Default: now at speed 1; faster, early
                        enough that the last reading is stamped now (the service rejects readings stamped
                        more than MAX_FUTURE_SKEW ahead of its clock)
  --report-every <d>    simulated time between two readings of a sensor (default max(10s, 2s × speed))
  --broker <url>        broker URL (default $MQTT_URL or mqtt://127.0.0.1:1883); mqtts:// and ws:// work too
  --config <path>       farm file (default $FARM_CONFIG or config/demo-farm.yaml)
  --secrets <path>      YAML/JSON map of device id -> secret, for devices the farm file gives only a secretHash
  --topic-root <root>   MQTT topic root (default $MQTT_TOPIC_ROOT or farm)
  --fault <spec>        add a fault, repeatable: kind[:device][@fromSec[-toSec]]
                        kinds: ${FAULT_KINDS.join(', ')}
                        (also ${Object.keys(FAULT_ALIASES).join(', ')}: the READMEs' words)
  --qos <0|1>           telemetry QoS (default 1; load mode default 0)
  --load <n>            load mode: n devices (up to 10000) publishing at --rate in total
  --rate <r>            load mode: messages per second over all devices (default 1000)
  --tag-load            tag load mode: every gate reader of the farm file sends its shed's whole flock (from
                        animals.register) out and back in, all sheds at once, at --rate reads/s in total
                        (default 500); QoS 1 unless --qos 0. For the park's 45,000 sheep see bench/ (tags)
  --load-secret <s>     load mode: password of synthetic devices load-00000… when the farm file has too few
                        (default $LOAD_SECRET)
  --quiet               no progress line
  --list                list the scenarios and exit
  -h, --help            this help

Progress (devices connected, messages sent, rate, errors) goes to stderr every second; a summary (with the
peak memory) is printed at the end. Ctrl-C stops cleanly and prints the summary. Exit code 0 when devices ran,
1 when none could send anything or another client took the devices' ids, 2 for a bad option or farm file.

Time: timestamps follow simulated time. A service in another process still judges rule durations (for,
minOn), rain windows and stale sensors by its own clock, so at --speed 60 a "for: 30s" lasts 30 simulated
minutes. For rules judged in simulated time, run the service in-process on the simulator's clock
(simulators/README.md, "Time"). A sped-up run is stamped from the past up to now: a service that already has
newer readings of the same devices (npm start's own simulation, an earlier run) stores them but its rules skip
them, and says so in its log; the run says so at its start.

Examples:
  npm run simulate -- --scenario typhoon --speed 60 --seed 7
  npm run simulate -- --scenario summer-week --days 7 --report summer-week.json
  npm run simulate -- --scenario sensor-faults --fault never-ack:shed-2-fan
  npm run simulate -- --load 10000 --rate 5000 --duration 60 --broker mqtt://127.0.0.1:1883
  npm run simulate -- --tag-load --rate 500 --config park.yaml
`;

function positiveNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${text}"`);
  return n;
}

/** A duration in seconds: a bare number is seconds, otherwise 500ms / 30s / 10m / 6h / 1d. */
export function parseDurationSec(name: string, text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  try {
    return parseDurationMs(text) / 1000;
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        scenario: { type: 'string' },
        speed: { type: 'string' },
        seed: { type: 'string' },
        duration: { type: 'string' },
        days: { type: 'string' },
        report: { type: 'string' },
        sites: { type: 'string' },
        start: { type: 'string' },
        'report-every': { type: 'string' },
        broker: { type: 'string' },
        config: { type: 'string' },
        secrets: { type: 'string' },
        'topic-root': { type: 'string' },
        fault: { type: 'string', multiple: true },
        qos: { type: 'string' },
        load: { type: 'string' },
        rate: { type: 'string' },
        'load-secret': { type: 'string' },
        'tag-load': { type: 'boolean' },
        quiet: { type: 'boolean' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const scenario = values.scenario ?? 'normal-day';
  try {
    getScenario(scenario);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number ≥ 0, got "${values.seed}"`);
  let startTs: number | undefined;
  if (values.start !== undefined && values.start !== 'now') {
    startTs = Date.parse(values.start);
    if (Number.isNaN(startTs)) throw new UsageError(`--start must be an ISO-8601 time like 2021-07-25T08:00:00+08:00 or "now", got "${values.start}"`);
  }
  const load = values.load === undefined ? undefined : Number(values.load);
  if (load !== undefined && (!Number.isInteger(load) || load < 1 || load > 10_000))
    throw new UsageError(`--load takes 1 to 10000 devices, got "${values.load}"`);
  if (load !== undefined && values['tag-load']) throw new UsageError('--load and --tag-load are two load modes: give one');
  const qosText = values.qos ?? (load ? '0' : '1');
  if (qosText !== '0' && qosText !== '1') throw new UsageError(`--qos must be 0 or 1, got "${values.qos}"`);
  let faults: FaultSpec[];
  try {
    faults = (values.fault ?? []).map(parseFaultSpec);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.days !== undefined && values.duration !== undefined) throw new UsageError('give either --days or --duration, not both');
  const days = values.days === undefined ? undefined : positiveNumber('days', values.days, 1);
  if (values.sites !== undefined && values.report === undefined) throw new UsageError('--sites goes with --report (the in-process run)');
  if (values.report !== undefined && load !== undefined) throw new UsageError('--report plays a scenario; it does not go with --load');
  return {
    scenario,
    report: values.report,
    sites: values.sites
      ?.split(',')
      .map((x) => x.trim())
      .filter(Boolean),
    speed: positiveNumber('speed', values.speed, 1),
    seed,
    durationSec: days !== undefined ? days * 86_400 : values.duration === undefined ? undefined : parseDurationSec('duration', values.duration),
    startTs,
    reportEverySec: values['report-every'] === undefined ? undefined : parseDurationSec('report-every', values['report-every']),
    broker: values.broker ?? env.MQTT_URL ?? 'mqtt://127.0.0.1:1883',
    config: values.config ?? env.FARM_CONFIG ?? 'config/demo-farm.yaml',
    secretsFile: values.secrets,
    topicRoot: values['topic-root'] ?? env.MQTT_TOPIC_ROOT ?? 'farm',
    faults,
    qos: qosText === '0' ? 0 : 1,
    load,
    tagLoad: values['tag-load'] ?? false,
    rate: positiveNumber('rate', values.rate, values['tag-load'] ? 500 : 1000),
    loadSecret: values['load-secret'] ?? env.LOAD_SECRET,
    quiet: values.quiet ?? false,
    list: values.list ?? false,
    help: values.help ?? false,
  };
}
