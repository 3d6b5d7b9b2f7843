import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { num, table } from './format.js';
import { createSourceLines } from './source-lines.js';
import { REPO_ROOT } from './targets/process.js';

/**
 * Where the service's CPU time goes, from the .cpuprofile files node --cpu-prof wrote: self time (time spent in
 * a function's own code, not its callees) summed by function + file + line over all profiles of a scenario,
 * and by area (a project folder, an npm package, node internals, GC). Only samples between "ready" and "asked
 * to stop" count (window.json next to each profile), so start-up (module loading, tsx compiling) and shutdown
 * do not drown the steady state.
 */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Written by the benchmark next to a profile: the part of the process's life (ms after spawn) that counts. */
export interface ProfileWindow {
  fromMs: number;
  toMs: number;
}

export interface ProfileSummary {
  files: number;
  totalMs: number;
  idleMs: number;
  functions: { name: string; where: string; area: string; selfMs: number }[];
  areas: { area: string; selfMs: number }[];
}

export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  const root = `file://${REPO_ROOT}`;
  if (url.startsWith(root)) return `${url.slice(root.length).split('/')[0]}/`;
  return 'other';
}

function where(url: string, line: number): string {
  const short = url.replace(`file://${REPO_ROOT}`, '').replace(/^.*node_modules\//, '');
  return short ? `${short}:${line}` : '';
}

export function findProfiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the service; others are tsx's loader thread.
      else if (name.endsWith('.cpuprofile') && !/\.\d+\.[1-9]\d*\.\d+\.cpuprofile$/.test(name)) out.push(p);
    }
  };
  try {
    walk(dir);
  } catch {
    // no profiles written
  }
  return out;
}

export function summarizeProfiles(files: string[]): ProfileSummary {
  const byFunction = new Map<string, { name: string; where: string; area: string; selfMs: number }>();
  const byArea = new Map<string, number>();
  const sourceLine = createSourceLines();
  let totalMs = 0;
  let idleMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const windowFile = `${dirname(file)}/window.json`;
    const window: ProfileWindow = existsSync(windowFile) ? (JSON.parse(readFileSync(windowFile, 'utf8')) as ProfileWindow) : { fromMs: 0, toMs: Infinity };
    const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const selfUs = new Map<number, number>();
    // timeDeltas[i] is the time before sample i; the time after it (until the next sample) belongs to it.
    let atUs = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      atUs += profile.timeDeltas[i] ?? 0;
      if (atUs < window.fromMs * 1000 || atUs > window.toMs * 1000) continue;
      selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
    }
    for (const [id, us] of selfUs) {
      const frame = nodes.get(id);
      if (!frame) continue;
      const ms = us / 1000;
      totalMs += ms;
      if (frame.functionName === '(idle)') {
        idleMs += ms;
        continue;
      }
      const name = frame.functionName || '(anonymous)';
      const key = `${name}|${frame.url}|${frame.lineNumber}|${frame.columnNumber}`;
      const area = areaOf(frame.url, name);
      const tsLine =
        frame.url.startsWith('file://') && frame.url.endsWith('.ts')
          ? sourceLine(fileURLToPath(frame.url), frame.lineNumber, frame.columnNumber, name)
          : undefined;
      const entry = byFunction.get(key) ?? { name, where: where(frame.url, tsLine ?? frame.lineNumber + 1), area, selfMs: 0 };
      entry.selfMs += ms;
      byFunction.set(key, entry);
      byArea.set(area, (byArea.get(area) ?? 0) + ms);
    }
  }
  return {
    files: files.length,
    totalMs,
    idleMs,
    functions: [...byFunction.values()].sort((a, b) => b.selfMs - a.selfMs),
    areas: [...byArea.entries()].map(([area, selfMs]) => ({ area, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

export function profileMarkdown(title: string, p: ProfileSummary, top = 25): string {
  const busy = p.totalMs - p.idleMs;
  const pct = (ms: number) => `${num((ms / busy) * 100, 1)} %`;
  return [
    `#### ${title}: ${p.files} profile(s), ${num(busy / 1000, 1)} s busy (${num((busy / Math.max(1, p.totalMs)) * 100, 0)} % of the sampled time)`,
    '',
    table(
      ['area', 'self time (ms)', 'share of busy time'],
      p.areas.slice(0, 15).map((a) => [a.area, num(a.selfMs, 0), pct(a.selfMs)]),
    ),
    '',
    table(
      ['function', 'where', 'area', 'self time (ms)', 'share'],
      p.functions.slice(0, top).map((f) => [`\`${f.name}\``, f.where, f.area, num(f.selfMs, 0), pct(f.selfMs)]),
    ),
  ].join('\n');
}
