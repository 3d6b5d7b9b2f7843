/** What the parent and the load-generator processes tell each other (bench/load/worker.ts, pool.ts). */
export interface LoadDeviceSpec {
  id: string;
  password: string;
  /** farm/{site}/{zone}/{device}/telemetry */
  topic: string;
  statusTopic: string;
  /** Metrics each reading carries. */
  metrics: string[];
}

export interface RunSpec {
  qos: 0 | 1;
  /**
   * "max": closed loop, each device waits for acknowledgements (QoS 1) or ping answers (QoS 0) every `window`
   * publishes; "rate": `ratePerSec` readings a second in total; "pipelined": open loop, each device writes
   * `perDevice` readings as fast as its TCP connection takes them (QoS 1: up to `window` unacknowledged).
   */
  mode: 'max' | 'rate' | 'pipelined';
  ratePerSec?: number;
  /** "pipelined": readings each device sends. */
  perDevice?: number;
  /** "max", "rate": how long to publish; "pipelined": the longest it may take. */
  durationMs: number;
  /** Unacknowledged publishes allowed per device (QoS 1), or publishes between flow-control pings (QoS 0, "max" and "rate"). */
  window: number;
  /** How long to wait for the last acknowledgements after publishing stops. */
  drainMs?: number;
}

export interface LoadCounters {
  /** Readings written to the sockets. */
  sent: number;
  /** QoS 1 readings the broker acknowledged (PUBACK). */
  acked: number;
  errors: number;
  disconnects: number;
  /** Readings the rate mode could not send on time (every device's window was full). */
  behind: number;
}

/** Progress of a run: the counters so far, and how many devices wait on the broker right now (window full). */
export interface LoadProgress extends LoadCounters {
  waiting: number;
  at: number;
}

export interface RunResult extends LoadCounters {
  unacked: number;
  startedAt: number;
  endedAt: number;
  lastError?: string;
}
