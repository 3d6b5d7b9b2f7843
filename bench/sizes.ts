import type { BenchOptions } from './cli.js';

/**
 * Every size and phase length of the benchmark in one place: the full run (the figures the README reports)
 * and --quick (the same steps, tiny, to check the script). Options override single values.
 */
export interface Sizes {
  /** Capacity (open loop): this many pipelined publishers (each a device and its own connection)... */
  publishers: number;
  /** ...each writing this many readings as fast as its connection takes them... */
  perPublisher: number;
  /** ...with at most this many unacknowledged at QoS 1. */
  pipelinedWindow: number;
  /** Longest a pipelined phase may take. */
  pipelinedMaxMs: number;
  /** Publishing devices of the closed-loop figures of the fan-in references and the pipeline. */
  devices: number;
  /** Max-rate phase, and the part of it skipped before the rate is read (ramp-up). */
  throughputMs: number;
  warmupMs: number;
  /** Unacknowledged publishes per device (QoS 1), or publishes between flow-control pings (QoS 0). */
  window: number;
  /** The "fixed moderate rate" of the latency figures, and how long they are sampled. */
  latencyRate: number;
  latencyMs: number;
  /** A probe reading every … ms (publish -> stored latency). */
  probeEveryMs: number;
  influxBatchLines: number;
  influxMs: number;
  /** Copies of the demo farm in the rules scenario. */
  rulesScale: number;
  rulesRates: number[];
  rulesMs: number;
  rulesProbeEveryMs: number;
  dashboardClients: number;
  dashboardDevices: number;
  dashboardRate: number;
  dashboardMs: number;
  dashboardBaselineMs: number;
  memoryDevices: number;
  memoryRate: number;
  memoryMs: number;
  soakDevices: number;
  soakRate: number;
  soakMs: number;
  soakClients: number;
  soakSampleMs: number;
  /** Ear tags: animals in the register, sheds (one gate reader each), reads/s over all gates. */
  tagAnimals: number;
  tagSheds: number;
  tagRate: number;
  /** Stored readings of one device that the export scenario downloads as CSV. */
  exportRows: number;
}

const FULL: Sizes = {
  publishers: 4,
  // 600,000 readings: several seconds even at the bare broker's rate, and every stamp within 150 s of now.
  perPublisher: 150_000,
  pipelinedWindow: 1000,
  pipelinedMaxMs: 120_000,
  devices: 1000,
  throughputMs: 20_000,
  warmupMs: 4_000,
  window: 8,
  latencyRate: 1000,
  latencyMs: 15_000,
  probeEveryMs: 20,
  influxBatchLines: 5000, // the outbox drainer's batch size (store/buffered-store.ts)
  influxMs: 10_000,
  rulesScale: 5,
  rulesRates: [1000, 5000],
  rulesMs: 20_000,
  rulesProbeEveryMs: 200,
  dashboardClients: 200,
  dashboardDevices: 100,
  dashboardRate: 1000,
  dashboardMs: 20_000,
  dashboardBaselineMs: 8_000,
  memoryDevices: 10_000,
  memoryRate: 1000,
  memoryMs: 15_000,
  soakDevices: 2000,
  soakRate: 1000,
  soakMs: 30 * 60_000,
  soakClients: 50,
  soakSampleMs: 30_000,
  // The Huyang park of the seed stories: 45,000 sheep; 150 sheds of 300.
  tagAnimals: 45_000,
  tagSheds: 150,
  tagRate: 500,
  exportRows: 1_000_000,
};

const QUICK: Sizes = {
  ...FULL,
  perPublisher: 5_000,
  pipelinedMaxMs: 30_000,
  devices: 40,
  throughputMs: 4_000,
  warmupMs: 1_000,
  latencyRate: 200,
  latencyMs: 3_000,
  influxMs: 2_000,
  rulesScale: 2,
  rulesRates: [200, 500],
  rulesMs: 4_000,
  dashboardClients: 10,
  dashboardDevices: 20,
  dashboardRate: 200,
  dashboardMs: 4_000,
  dashboardBaselineMs: 2_000,
  memoryDevices: 500,
  memoryRate: 200,
  memoryMs: 3_000,
  soakDevices: 100,
  soakRate: 200,
  soakMs: 60_000,
  soakClients: 5,
  soakSampleMs: 10_000,
  tagAnimals: 3000,
  tagSheds: 10,
  tagRate: 300,
  exportRows: 100_000,
};

export function sizesFor(o: BenchOptions): Sizes {
  const s = { ...(o.quick ? QUICK : FULL) };
  if (o.durationMs !== undefined) {
    if (o.scenario === 'soak') s.soakMs = o.durationMs;
    else {
      s.throughputMs = s.latencyMs = s.rulesMs = s.dashboardMs = s.memoryMs = o.durationMs;
      s.influxMs = Math.min(s.influxMs, o.durationMs);
      s.warmupMs = Math.min(s.warmupMs, Math.floor(o.durationMs / 4));
    }
  }
  if (o.publishers !== undefined) s.publishers = o.publishers;
  if (o.devices !== undefined) {
    if (o.scenario === 'memory') s.memoryDevices = o.devices;
    else if (o.scenario === 'soak') s.soakDevices = o.devices;
    else s.devices = o.devices;
  }
  if (o.rate !== undefined) {
    if (o.scenario === 'tags') s.tagRate = o.rate;
    else s.soakRate = o.rate;
  }
  if (o.scenario === 'tags' && o.devices !== undefined) s.tagAnimals = o.devices;
  if (o.rows !== undefined) s.exportRows = o.rows;
  if (o.clients !== undefined) {
    if (o.scenario === 'soak') s.soakClients = o.clients;
    else s.dashboardClients = o.clients;
  }
  return s;
}
