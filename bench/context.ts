import type { BenchOptions } from './cli.js';
import type { Sizes } from './sizes.js';
import type { Summary } from './stats.js';
import type { Influxd } from './targets/influx.js';

/** What scenarios share during one `npm run bench`: options, sizes, the raw references measured so far. */
export interface Check {
  what: string;
  /** undefined: not measured in this run. */
  ok: boolean | undefined;
  detail: string;
}

export interface Section {
  title: string;
  /** Markdown: a table and notes. */
  body: string;
  checks: Check[];
  /** Per-run raw values, written to the .json next to the report. */
  data: unknown;
}

/** Every reading counted: what the load generator had acknowledged (QoS 1) or sent (QoS 0) vs what the store or subscriber holds. */
export interface CountRecord {
  scenario: string;
  label: string;
  run: number;
  expected: number;
  stored: number;
  lost: number;
}

export interface LatencySummary {
  p50?: Summary;
  p99?: Summary;
}

export interface References {
  /** The embedded broker's capacity: pipelined publishers, open loop (scenarios/capacity.ts). The ratios use it. */
  capacity: Partial<Record<0 | 1, Summary>>;
  /** The embedded broker with 1,000 devices each waiting for its acknowledgements (closed loop). */
  fanIn: Partial<Record<0 | 1, Summary>>;
  fanInLatency: Partial<Record<0 | 1, LatencySummary>>;
  influxRaw?: Summary;
}

export interface BenchContext {
  opts: BenchOptions;
  sizes: Sizes;
  /** Temp dir for farm files, data dirs and configs; removed at the end. */
  workDir: string;
  /** Set with --profile: the service runs under --cpu-prof and writes here (one folder per scenario). */
  profileRoot?: string;
  refs: References;
  counts: CountRecord[];
  /** One influxd for the whole benchmark, started on first use. */
  influxd(): Promise<Influxd>;
}

export function profileDir(ctx: BenchContext, scenario: string, label: string, run: number): string | undefined {
  return ctx.profileRoot ? `${ctx.profileRoot}/${scenario}/${label.replace(/[^a-z0-9-]+/gi, '-')}-run${run}` : undefined;
}
