import { readFileSync } from 'node:fs';

/**
 * CPU time and resident memory of one process, read from /proc (Linux): what `ps`/`top` show, without a
 * dependency. CPU is utime + stime in clock ticks (USER_HZ, 100 on Linux).
 */
const TICK_MS = 10;

export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}: is it still running?`);
  return Number(match[1]) * 1024;
}

/** The process's peak resident set size since it started (VmHWM, "high water mark"). */
export function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmHWM for pid ${pid}: is it still running?`);
  return Number(match[1]) * 1024;
}

/** CPU use of `pid` between start() and stop(), in % of one core. */
export function cpuMeter(pid: number): { stop(): number } {
  const t0 = Date.now();
  const c0 = cpuMs(pid);
  return {
    stop() {
      const wall = Date.now() - t0;
      return wall > 0 ? ((cpuMs(pid) - c0) / wall) * 100 : 0;
    },
  };
}

export function machineLoad(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}
